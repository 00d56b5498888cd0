using Datapath.Actions;
using Actors.Conntrack;
using Akka.Actor;
using Datapath.Conntrack;
using Datapath.Pipeline;

namespace Actors.Pmd;

/// <summary>
/// The PMD's conntrack work for shards it does not host: one <see cref="TrackConnections"/> per
/// shard a request touches (never one message per packet), each answer continuing its packets as
/// soon as it arrives, so a slow shard never holds back another shard's packets and the packets of
/// one connection (one shard) keep their order. Shards' revocations of bypass flows are passed on to
/// the core; messages unanswered for too long are given up. Owned by one PMD actor, which hands it
/// the shards' messages.
/// </summary>
internal sealed class RemoteShards
{
    private readonly ConntrackRoutes _routes;
    private readonly IActorRef _self;
    private readonly IScheduler _scheduler;
    private readonly IConntrackAnswers _answers;
    private readonly Dictionary<long, Pending> _outstanding = [];
    private readonly int[] _outstandingPerShard;

    // Batch ids start at a random point so that a restarted PMD (same actor reference, new stage)
    // never takes an answer meant for its previous incarnation for one of its own.
    private long _nextBatchId = Random.Shared.NextInt64(1L << 62);

    public RemoteShards(ConntrackRoutes routes, IActorRef self, IScheduler scheduler, IConntrackAnswers answers)
    {
        _routes = routes;
        _self = self;
        _scheduler = scheduler;
        _answers = answers;
        _outstandingPerShard = new int[routes.ShardCount];
    }

    /// <summary>Answers that came too late (after <see cref="ExpireOverdue"/> gave up on them).</summary>
    public long LostAnswers { get; private set; }

    /// <summary>Messages sent to shards and not answered yet.</summary>
    public int Outstanding => _outstanding.Count;

    /// <summary>Messages sent to <paramref name="shard"/> and not answered yet.</summary>
    public int OutstandingFor(int shard) => _outstandingPerShard[shard];

    public long MessagesSent { get; private set; }

    public long StaleAnswers { get; private set; }

    /// <summary>Sends inputs <paramref name="group"/> of <paramref name="request"/> (all of one shard) to that shard.</summary>
    public void Send(ConntrackRequest request, int shard, ReadOnlySpan<int> group)
    {
        var indices = group.ToArray();
        var inputs = new ConntrackInput[indices.Length];
        var all = request.Inputs;
        for (int n = 0; n < indices.Length; n++)
        {
            inputs[n] = all[indices[n]];
        }

        Send(request.Id, request.Args, request.NowMs, shard, indices, inputs);
    }

    /// <summary>Sends <paramref name="inputs"/> (inputs <paramref name="indices"/> of request <paramref name="requestId"/>) to <paramref name="shard"/>; both arrays are handed over.</summary>
    public void Send(long requestId, in ConntrackArgs args, long nowMs, int shard, int[] indices, ConntrackInput[] inputs)
    {
        long batchId = ++_nextBatchId;
        _outstanding.Add(batchId, new Pending(requestId, shard, indices, _scheduler.Now, args, nowMs));
        _outstandingPerShard[shard]++;
        MessagesSent++;
        _routes.Send(new TrackConnections(shard, batchId, nowMs, args, inputs), _self);
    }

    /// <summary>Where answers go that send some inputs on to their owners (the PMD's conntrack stage).</summary>
    public PmdConntrackStage? Rerouter { get; set; }

    /// <summary>The PMD built a bypass flow of a shard it does not host: that shard watches it and tells the PMD when it leaves the established state.</summary>
    public void Watch(int shard, in ConntrackKey connection, uint connectionHash) =>
        _routes.Send(shard, new BypassFlowInstalled(connection, connectionHash), _self);

    /// <summary>A shard's answer: continues its packets. Returns false for an answer nobody waits for.</summary>
    public bool Complete(ConnectionsTracked answer)
    {
        if (!_outstanding.TryGetValue(answer.BatchId, out var pending)
            || pending.Shard != answer.Shard
            || pending.Indices.Length != answer.Results.Length)
        {
            StaleAnswers++;
            return false;
        }

        Forget(answer.BatchId, pending);
        if (answer.Inputs is { } inputs && Rerouter is { } rerouter && inputs.Length == answer.Results.Length)
        {
            rerouter.Answer(pending.RequestId, pending.Indices, answer.Results, inputs, pending.Args, pending.NowMs);
        }
        else
        {
            _answers.Complete(pending.RequestId, pending.Indices, answer.Results);
        }

        return true;
    }

    /// <summary>A shard says these connections left the established state: their bypass flows go (safe at any time, the guard decides each packet).</summary>
    public void Revoked(BypassFlowsRevoked message)
    {
        for (int i = 0; i < message.Keys.Length && i < message.ShardHashes.Length; i++)
        {
            _answers.RevokeBypassFlows(in message.Keys[i], message.ShardHashes[i]);
        }
    }

    /// <summary>
    /// Gives up on messages unanswered for longer than <paramref name="timeout"/> (a shard that
    /// stopped or restarted loses what it was handling): their packets are dropped and counted, so
    /// the PMD never waits forever.
    /// </summary>
    /// <returns>The number of messages given up on.</returns>
    public int ExpireOverdue(TimeSpan timeout)
    {
        var now = _scheduler.Now;
        List<long>? overdue = null;
        foreach (var (batchId, pending) in _outstanding)
        {
            if (now - pending.SentAt > timeout)
            {
                (overdue ??= []).Add(batchId);
            }
        }

        if (overdue is null)
        {
            return 0;
        }

        foreach (long batchId in overdue)
        {
            var pending = _outstanding[batchId];
            Forget(batchId, pending);
            LostAnswers++;
            _answers.Abandon(pending.RequestId, pending.Indices);
        }

        return overdue.Count;
    }

    private void Forget(long batchId, Pending pending)
    {
        _outstanding.Remove(batchId);
        _outstandingPerShard[pending.Shard]--;
    }

    private readonly record struct Pending(long RequestId, int Shard, int[] Indices, DateTimeOffset SentAt, ConntrackArgs Args, long NowMs);
}
