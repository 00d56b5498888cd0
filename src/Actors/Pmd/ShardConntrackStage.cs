using Actors.Conntrack;
using Akka.Actor;
using Datapath.Conntrack;
using Datapath.Pipeline;

namespace Actors.Pmd;

/// <summary>
/// The PMD's conntrack stage on the shard actors: a request's inputs are grouped by shard into
/// at most one <see cref="TrackConnections"/> per shard (never one message per packet), and each
/// shard's answer continues its packets as soon as it arrives, so a slow shard never holds back
/// another shard's packets and the packets of one connection (one shard) keep their order.
/// Inputs that conntrack would call invalid anyway (not parseable) are answered on the spot.
/// Owned by one PMD actor.
/// </summary>
internal sealed class ShardConntrackStage(ConntrackRoutes routes, IActorRef self, IScheduler scheduler) : IConntrackStage
{
    private readonly Dictionary<long, Pending> _outstanding = [];
    private readonly int[] _shardOf = new int[Datapath.Packets.PacketBatch.MaxSize];
    private readonly int[] _perShard = new int[Math.Max(1, routes.ShardCount)];

    // Batch ids start at a random point so that a restarted PMD (same actor reference, new stage)
    // never takes an answer meant for its previous incarnation for one of its own.
    private long _nextBatchId = Random.Shared.NextInt64(1L << 62);

    /// <summary>Answers that came too late (after <see cref="ExpireOverdue"/> gave up on them).</summary>
    public long LostAnswers { get; private set; }

    /// <summary>Messages sent to shards and not answered yet.</summary>
    public int Outstanding => _outstanding.Count;

    public long MessagesSent { get; private set; }

    public long StaleAnswers { get; private set; }

    public void Submit(ConntrackRequest request, PmdCore core)
    {
        var inputs = request.Inputs;
        Array.Clear(_perShard);
        int invalid = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            if (!inputs[i].IsValid)
            {
                _shardOf[i] = -1;
                invalid++;
                continue;
            }

            int shard = ConntrackShards.ShardOf(inputs[i].ShardHash, routes.ShardCount);
            _shardOf[i] = shard;
            _perShard[shard]++;
        }

        for (int shard = 0; shard < _perShard.Length; shard++)
        {
            if (_perShard[shard] > 0)
            {
                Send(request, shard, _perShard[shard]);
            }
        }

        if (invalid > 0)
        {
            AnswerInvalid(request, core, invalid);
        }
    }

    /// <summary>The PMD built a combined flow: the connection's shard watches it and tells the PMD when it leaves the established state.</summary>
    public void WatchShortcut(in ConntrackKey connection, uint connectionHash, PmdCore core) =>
        routes.Send(ConntrackShards.ShardOf(connectionHash, routes.ShardCount), new ShortcutInstalled(connection, connectionHash), self);

    /// <summary>A shard's answer: continues its packets. Returns false for an answer nobody waits for.</summary>
    public bool Complete(ConnectionsTracked answer, PmdCore core)
    {
        if (!_outstanding.TryGetValue(answer.BatchId, out var pending)
            || pending.Shard != answer.Shard
            || pending.Indices.Length != answer.Results.Length)
        {
            StaleAnswers++;
            return false;
        }

        _outstanding.Remove(answer.BatchId);
        core.CompleteConntrack(pending.RequestId, pending.Indices, answer.Results);
        return true;
    }

    /// <summary>
    /// Gives up on messages unanswered for longer than <paramref name="timeout"/> (a shard that
    /// stopped or restarted loses what it was handling): their packets are dropped and counted, so
    /// the PMD never waits forever.
    /// </summary>
    /// <returns>The number of messages given up on.</returns>
    public int ExpireOverdue(PmdCore core, TimeSpan timeout)
    {
        var now = scheduler.Now;
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
            core.AbandonConntrack(pending.RequestId, pending.Indices);
        }

        return overdue.Count;
    }

    private void Send(ConntrackRequest request, int shard, int count)
    {
        var indices = new int[count];
        var inputs = new ConntrackInput[count];
        int n = 0;
        for (int i = 0; i < request.Count; i++)
        {
            if (_shardOf[i] == shard)
            {
                indices[n] = i;
                inputs[n++] = request.Inputs[i];
            }
        }

        long batchId = ++_nextBatchId;
        _outstanding.Add(batchId, new Pending(request.Id, shard, indices, scheduler.Now));
        MessagesSent++;
        routes.Send(new TrackConnections(shard, batchId, request.NowMs, request.Args, inputs), self);
    }

    private void AnswerInvalid(ConntrackRequest request, PmdCore core, int count)
    {
        var indices = new int[count];
        var results = new ConntrackResult[count];
        int n = 0;
        for (int i = 0; i < request.Count; i++)
        {
            if (_shardOf[i] < 0)
            {
                indices[n] = i;
                results[n++] = ConnectionTable.InvalidResult(request.Args.Zone);
            }
        }

        core.CompleteConntrack(request.Id, indices, results);
    }

    private readonly record struct Pending(long RequestId, int Shard, int[] Indices, DateTimeOffset SentAt);
}
