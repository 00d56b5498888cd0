using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Packets;

namespace Datapath.Pipeline;

/// <summary>Runs a batch on from an action, with the core's action context (implemented by the core).</summary>
internal interface IContinuationRunner
{
    void Continue(PacketBatch batch, ActionList actions, int resumeAt);
}

/// <summary>
/// The conntrack requests a core sent and not fully answered, and what their answers continue: each
/// answered input's packets take their ct fields and go on with their flow's actions after the ct;
/// inputs given up on drop their packets, counted. Not thread-safe: one owner.
/// </summary>
internal sealed class ConntrackContinuations(IContinuationRunner runner, ConntrackRequestPool requests, PmdPackets packets, PmdCoreStats stats)
{
    private readonly Dictionary<long, ConntrackRequest> _outstanding = [];

    /// <summary>Requests sent and not fully answered.</summary>
    public int Outstanding => _outstanding.Count;

    /// <summary>Packets waiting for an answer (lost if the owner dies now).</summary>
    public int PacketsWaiting
    {
        get
        {
            int count = 0;
            foreach (var request in _outstanding.Values)
            {
                for (int i = 0; i < request.Count; i++)
                {
                    count += request.IsAnswered(i) ? 0 : request.PacketsOf(i).Length;
                }
            }

            return count;
        }
    }

    /// <summary>A request is being sent: its answers are expected.</summary>
    public void Track(ConntrackRequest request) => _outstanding.Add(request.Id, request);

    /// <summary>The outstanding request <paramref name="requestId"/>, or false (its answers count as stale).</summary>
    public bool TryFind(long requestId, int answers, out ConntrackRequest request)
    {
        if (_outstanding.TryGetValue(requestId, out request!))
        {
            return true;
        }

        stats.StaleConntrackAnswers += answers;
        return false;
    }

    /// <summary>
    /// Continues the packets of the answered inputs. Consecutive inputs that continue the same way
    /// run as one batch, at once and in order (a continuation may gather more ct work, which must
    /// keep this order).
    /// </summary>
    public void Continue(ConntrackRequest request, ReadOnlySpan<int> indices, ReadOnlySpan<ConntrackResult> results)
    {
        if (indices.Length != results.Length)
        {
            throw new ArgumentException("One result per index.", nameof(results));
        }

        var continuing = packets.Batches.Rent();
        ActionList? actions = null;
        int resumeAt = 0;
        for (int k = 0; k < indices.Length; k++)
        {
            int index = indices[k];
            if (!request.Answer(index))
            {
                stats.StaleConntrackAnswers++;
                continue;
            }

            ref readonly var result = ref results[k];
            var nextActions = request.ActionsOf(index);
            int nextResumeAt = request.ResumeAtOf(index);
            foreach (var packet in request.PacketsOf(index))
            {
                if (result.Drop)
                {
                    stats.ConntrackLimitDrops++;
                    packets.Recycle(packet);
                    continue;
                }

                result.ApplyTo(packet);
                if (continuing.Count > 0 && (continuing.IsFull || !ReferenceEquals(actions, nextActions) || resumeAt != nextResumeAt))
                {
                    runner.Continue(continuing, actions!, resumeAt);
                    continuing = packets.Batches.Rent();
                }

                actions = nextActions;
                resumeAt = nextResumeAt;
                continuing.Add(packet);
            }
        }

        if (continuing.Count > 0)
        {
            runner.Continue(continuing, actions!, resumeAt);
        }
        else
        {
            packets.Batches.Return(continuing);
        }

        ForgetIfAnswered(request);
    }

    /// <summary>Drops the packets of inputs whose answer will never come; answered inputs and unknown requests are ignored.</summary>
    public void Abandon(long requestId, ReadOnlySpan<int> indices)
    {
        if (!_outstanding.TryGetValue(requestId, out var request))
        {
            return;
        }

        foreach (int index in indices)
        {
            if (!request.Answer(index))
            {
                continue;
            }

            foreach (var packet in request.PacketsOf(index))
            {
                stats.ConntrackAnswersLost++;
                packets.Recycle(packet);
            }
        }

        ForgetIfAnswered(request);
    }

    /// <summary>Gives every waiting packet back to its pool and forgets every request (the owner stops). Returns how many packets.</summary>
    public int ReleaseAll()
    {
        int released = 0;
        foreach (var request in _outstanding.Values)
        {
            for (int i = 0; i < request.Count; i++)
            {
                if (request.Answer(i))
                {
                    foreach (var packet in request.PacketsOf(i))
                    {
                        packets.Recycle(packet);
                        released++;
                    }
                }
            }
        }

        _outstanding.Clear();
        return released;
    }

    private void ForgetIfAnswered(ConntrackRequest request)
    {
        if (request.Unanswered == 0)
        {
            _outstanding.Remove(request.Id);
            requests.Return(request);
        }
    }
}
