using Actors.Conntrack;
using Akka.Actor;
using Datapath.Conntrack;
using Datapath.Pipeline;

namespace Actors.Pmd;

/// <summary>
/// The PMD's conntrack stage on the shard actors: a request's inputs are grouped by shard
/// (<see cref="ShardSplitter"/>) into at most one <see cref="TrackConnections"/> per shard (never
/// one message per packet), and each shard's answer continues its packets as soon as it arrives, so
/// a slow shard never holds back another shard's packets and the packets of one connection (one
/// shard) keep their order. Inputs that conntrack would call invalid anyway (not parseable) are
/// answered on the spot. Shards' revocations of bypass flows are passed on to the core. Owned by one
/// PMD actor, which hands it the shards' messages.
/// </summary>
internal sealed class ShardConntrackStage : IConntrackStage
{
    private readonly ConntrackRoutes _routes;
    private readonly IActorRef _self;
    private readonly IScheduler _scheduler;
    private readonly IConntrackAnswers _answers;
    private readonly ShardSplitter _splitter;
    private readonly Dictionary<long, Pending> _outstanding = [];

    // Batch ids start at a random point so that a restarted PMD (same actor reference, new stage)
    // never takes an answer meant for its previous incarnation for one of its own.
    private long _nextBatchId = Random.Shared.NextInt64(1L << 62);

    public ShardConntrackStage(ConntrackRoutes routes, IActorRef self, IScheduler scheduler, IConntrackAnswers answers)
    {
        _routes = routes;
        _self = self;
        _scheduler = scheduler;
        _answers = answers;
        _splitter = new ShardSplitter(routes.ShardCount);
    }

    /// <summary>Answers that came too late (after <see cref="ExpireOverdue"/> gave up on them).</summary>
    public long LostAnswers { get; private set; }

    /// <summary>Messages sent to shards and not answered yet.</summary>
    public int Outstanding => _outstanding.Count;

    public long MessagesSent { get; private set; }

    public long StaleAnswers { get; private set; }

    public void Submit(ConntrackRequest request)
    {
        var inputs = request.Inputs;
        int groups = _splitter.Split(inputs);
        for (int g = 0; g < groups; g++)
        {
            Send(request, _splitter.ShardOf(g), _splitter.Group(g));
        }

        if (_splitter.Invalid.Length > 0)
        {
            AnswerInvalid(request, _splitter.Invalid);
        }
    }

    /// <summary>The PMD built a bypass flow: the connection's shard watches it and tells the PMD when it leaves the established state.</summary>
    public void Watch(in ConntrackKey connection, uint connectionHash) =>
        _routes.Send(ConntrackShards.ShardOf(connectionHash, _routes.ShardCount), new BypassFlowInstalled(connection, connectionHash), _self);

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

        _outstanding.Remove(answer.BatchId);
        _answers.Complete(pending.RequestId, pending.Indices, answer.Results);
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
            _outstanding.Remove(batchId, out var pending);
            LostAnswers++;
            _answers.Abandon(pending.RequestId, pending.Indices);
        }

        return overdue.Count;
    }

    private void Send(ConntrackRequest request, int shard, ReadOnlySpan<int> group)
    {
        var indices = group.ToArray();
        var inputs = new ConntrackInput[indices.Length];
        var all = request.Inputs;
        for (int n = 0; n < indices.Length; n++)
        {
            inputs[n] = all[indices[n]];
        }

        long batchId = ++_nextBatchId;
        _outstanding.Add(batchId, new Pending(request.Id, shard, indices, _scheduler.Now));
        MessagesSent++;
        _routes.Send(new TrackConnections(shard, batchId, request.NowMs, request.Args, inputs), _self);
    }

    /// <summary>Answers the invalid inputs in place (copied out first: the answer may submit again and split anew).</summary>
    private void AnswerInvalid(ConntrackRequest request, ReadOnlySpan<int> invalid)
    {
        var indices = invalid.ToArray();
        var results = new ConntrackResult[indices.Length];
        Array.Fill(results, ConnectionTable.InvalidResult(request.Args.Zone));
        _answers.Complete(request.Id, indices, results);
    }

    private readonly record struct Pending(long RequestId, int Shard, int[] Indices, DateTimeOffset SentAt);
}
