using Actors.Conntrack;
using Akka.Actor;
using Datapath.Conntrack;
using Datapath.Packets;
using Datapath.Pipeline;

namespace Actors.Pmd;

/// <summary>
/// The PMD's conntrack stage: a request's inputs are grouped by shard (<see cref="ShardSplitter"/>);
/// the groups of shards this PMD hosts are tracked in place, on its own thread, and answered at once
/// (no message, no allocation: the common case, since a connection's packets reach the PMD that hosts
/// its shard); the others go to their shards by message (<see cref="RemoteShards"/>). Inputs that
/// conntrack would call invalid anyway are answered on the spot. Owned by one PMD actor.
/// </summary>
internal sealed class PmdConntrackStage : IConntrackStage
{
    private readonly ShardSplitter _splitter;
    private readonly HostedShards _hosted;
    private readonly RemoteShards _remote;
    private readonly IConntrackAnswers _answers;
    private readonly IActorRef _self;
    private readonly IScheduler _scheduler;
    private readonly Action<ConntrackKey, uint> _revokeLocal;

    public PmdConntrackStage(int shardCount, HostedShards hosted, RemoteShards remote, IConntrackAnswers answers, IActorRef self, IScheduler scheduler)
    {
        _splitter = new ShardSplitter(shardCount);
        _hosted = hosted;
        _remote = remote;
        _answers = answers;
        _self = self;
        _scheduler = scheduler;
        _revokeLocal = (key, hash) => _answers.RevokeBypassFlows(in key, hash);
    }

    /// <summary>Inputs tracked in place, on a hosted shard.</summary>
    public long LocalInputs { get; private set; }

    public void Submit(ConntrackRequest request)
    {
        var inputs = request.Inputs;
        int groups = _splitter.Split(inputs);

        // An answer given in place runs the packets on, which may submit again and split anew: copy
        // the split out first.
        Span<int> order = stackalloc int[inputs.Length];
        Span<int> shardOf = stackalloc int[groups];
        Span<int> ends = stackalloc int[groups];
        int filled = 0;
        for (int g = 0; g < groups; g++)
        {
            var group = _splitter.Group(g);
            group.CopyTo(order[filled..]);
            filled += group.Length;
            shardOf[g] = _splitter.ShardOf(g);
            ends[g] = filled;
        }

        int invalid = _splitter.Invalid.Length;
        Span<int> invalidAt = stackalloc int[invalid];
        _splitter.Invalid.CopyTo(invalidAt);

        long requestId = request.Id;
        int start = 0;
        for (int g = 0; g < groups; g++)
        {
            var group = order[start..ends[g]];
            start = ends[g];
            if (_hosted.TryGetActive(shardOf[g], out var shard))
            {
                TrackInPlace(request, shard, group);
            }
            else
            {
                _remote.Send(request, shardOf[g], group);
            }
        }

        if (invalid > 0)
        {
            Span<ConntrackResult> results = stackalloc ConntrackResult[invalid];
            results.Fill(ConnectionTable.InvalidResult(request.Args.Zone));
            _answers.Complete(requestId, invalidAt, results);
        }
    }

    /// <summary>A bypass flow was built: the connection's shard watches it, in place when hosted here.</summary>
    public void Watch(in ConntrackKey connection, uint connectionHash)
    {
        int shardId = ConntrackShards.ShardOf(connectionHash, _splitter.ShardCount);
        if (!_hosted.TryGetActive(shardId, out var shard))
        {
            _remote.Watch(shardId, in connection, connectionHash);
            return;
        }

        if (!shard.Watch(in connection, connectionHash, _self, _scheduler.Now))
        {
            _answers.RevokeBypassFlows(in connection, connectionHash);
        }
    }

    /// <summary>Passes a hosted shard's notices on: this PMD's own bypass flows go at once, the others' by message.</summary>
    public void DeliverNotices(ConntrackShard shard) => shard.DeliverNotices(_self, _revokeLocal);

    private void TrackInPlace(ConntrackRequest request, ConntrackShard shard, ReadOnlySpan<int> group)
    {
        Span<ConntrackInput> inputs = stackalloc ConntrackInput[group.Length];
        var all = request.Inputs;
        for (int i = 0; i < group.Length; i++)
        {
            inputs[i] = all[group[i]];
        }

        Span<ConntrackResult> results = stackalloc ConntrackResult[group.Length];
        var args = request.Args;
        shard.Execute(inputs, in args, request.NowMs, _scheduler.Now, results);
        LocalInputs += group.Length;

        // Revocations first, so a connection that just left the established state loses its bypass
        // flows before the packets behind it are looked up.
        DeliverNotices(shard);
        _answers.Complete(request.Id, group, results);
    }
}
