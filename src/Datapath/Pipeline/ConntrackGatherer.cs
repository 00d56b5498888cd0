using Datapath.Actions;
using Datapath.Packets;

namespace Datapath.Pipeline;

/// <summary>
/// Gathers the ct actions of a pass into requests, one per ct argument set (so a batch costs one
/// request per argument set, not one per flow: bypass flows are one per connection direction),
/// and sends each to the conntrack stage when it is full or when the core's outermost call unwinds.
/// </summary>
internal sealed class ConntrackGatherer(
    IConntrackStage stage,
    ConntrackContinuations continuations,
    ConntrackRequestPool requests,
    ReassemblyStage reassembly,
    PmdCoreStats stats,
    PacketBatchPool batches,
    PmdClock clock)
{
    // Requests gathering inputs, in the order they were opened.
    private readonly List<ConntrackRequest> _gathering = [];
    private long _nextRequestId;

    /// <summary>
    /// ct(args) on <paramref name="batch"/>: each packet (or each datagram its fragments completed)
    /// becomes one input, whose packets continue with <paramref name="actions"/> from
    /// <paramref name="resumeAt"/>. Takes the batch.
    /// </summary>
    public void Gather(PacketBatch batch, in ConntrackArgs args, ActionList actions, int resumeAt)
    {
        long nowMs = clock.NowMs;
        var request = Gathering(in args, nowMs);
        foreach (var packet in batch.Packets)
        {
            if (!reassembly.TryInput(packet, args.Zone, nowMs, out request.NextInput, out var datagram))
            {
                continue;
            }

            if (datagram is null)
            {
                request.Add(actions, resumeAt, packet.PassSequence, packet);
            }
            else
            {
                request.AddDatagram(actions, resumeAt, packet.PassSequence, datagram.Fragments);
                reassembly.Release(datagram);
            }

            if (request.IsFull)
            {
                _gathering.Remove(request);
                Submit(request);
                request = Gathering(in args, nowMs);
            }
        }

        batch.Clear();
        batches.Return(batch);
    }

    /// <summary>Sends every gathered request, in the order they were opened (a stage that answers in place may gather more meanwhile).</summary>
    public void SubmitGathered()
    {
        while (_gathering.Count > 0)
        {
            var request = _gathering[0];
            _gathering.RemoveAt(0);
            Submit(request);
        }
    }

    /// <summary>The request gathering inputs for these ct arguments (opened when there is none).</summary>
    private ConntrackRequest Gathering(in ConntrackArgs args, long nowMs)
    {
        foreach (var open in _gathering)
        {
            if (open.Args == args)
            {
                return open;
            }
        }

        var request = requests.Rent();
        request.Start(++_nextRequestId, in args, nowMs);
        _gathering.Add(request);
        return request;
    }

    private void Submit(ConntrackRequest request)
    {
        if (request.Count == 0)
        {
            requests.Return(request);
            return;
        }

        continuations.Track(request);
        stats.ConntrackRequests++;
        stage.Submit(request);
    }
}
