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
internal sealed class ShardConntrackStage(ConntrackRoutes routes, IActorRef self) : IConntrackStage
{
    private readonly Dictionary<long, (long RequestId, int[] Indices)> _outstanding = [];
    private readonly int[] _shardOf = new int[Datapath.Packets.PacketBatch.MaxSize];
    private readonly int[] _perShard = new int[Math.Max(1, routes.ShardCount)];
    private long _nextBatchId;

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

    /// <summary>A shard's answer: continues its packets. Returns false for an answer nobody waits for.</summary>
    public bool Complete(ConnectionsTracked answer, PmdCore core)
    {
        if (!_outstanding.Remove(answer.BatchId, out var pending) || pending.Indices.Length != answer.Results.Length)
        {
            StaleAnswers++;
            return false;
        }

        core.CompleteConntrack(pending.RequestId, pending.Indices, answer.Results);
        return true;
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
        _outstanding.Add(batchId, (request.Id, indices));
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
}
