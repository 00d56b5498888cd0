using System.Runtime.CompilerServices;
using Actors.Conntrack;
using Datapath.Actions;
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
/// conntrack would call invalid anyway are answered on the spot. An answer saying that the packet's
/// tuple is the reply tuple of a translated connection another shard owns
/// (<see cref="ConntrackResult.OwnedElsewhere"/>) sends the packet on to that owner, in place or by
/// message like any other (ConnectionTable.Nat). Owned by one PMD actor.
///
/// Its stack buffers are not zeroed (<see cref="SkipLocalsInitAttribute"/>): every one is written in
/// full before it is read (results by <see cref="ConnectionTable"/>, which starts each from default),
/// and zeroing them cost a 4.6 KB clear per batch of 32 (144-byte results) on the packet path.
/// </summary>
[SkipLocalsInit]
internal sealed class PmdConntrackStage : IConntrackStage, IDeferredConntrackAnswers
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
        _remote.Rerouter = this;
    }

    /// <summary>
    /// The scheduler's time of the batch the PMD is running, set around it by the PMD, which has
    /// just read it: a clock read is 25 ns on a VM's kvm-clock, and a request reading it again was
    /// a quarter of the process's clock reads. Null between batches (<see cref="Now"/> then reads it).
    /// </summary>
    public DateTimeOffset? BatchNow { get; set; }

    /// <summary>The scheduler's time: the batch's while the PMD runs one, else read now.</summary>
    private DateTimeOffset Now => BatchNow ?? _scheduler.Now;

    /// <summary>Packets sent on to the owner of their translated connection.</summary>
    public long SentOnToOwner { get; private set; }

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

        // The groups answered in place are continued together, in group order, by one answer: one per
        // group ran the rest of the pipeline once per group, on batches of a packet or two when a PMD
        // hosts many shards (16 shards on one PMD: 5.4 against 7.1 Mpps with one).
        var answered = new InPlaceAnswers(stackalloc int[inputs.Length], stackalloc ConntrackResult[inputs.Length]);
        var now = Now; // not per group: a clock read per group was 2 % of the time with 16 shards on a PMD
        int start = 0;
        for (int g = 0; g < groups; g++)
        {
            var group = order[start..ends[g]];
            start = ends[g];
            if (_hosted.TryGetActive(shardOf[g], out var shard))
            {
                TrackInPlace(request, shard, group, now, ref answered);
            }
            else
            {
                _remote.Send(request, shardOf[g], group);
            }
        }

        Flush(requestId, ref answered);
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

        if (!shard.Watch(in connection, connectionHash, _self, Now))
        {
            _answers.RevokeBypassFlows(in connection, connectionHash);
        }
    }

    /// <summary>Passes a hosted shard's notices on: this PMD's own bypass flows go at once, the others' by message.</summary>
    public void DeliverNotices(ConntrackShard shard) => shard.DeliverNotices(_self, _revokeLocal);

    private void TrackInPlace(ConntrackRequest request, ConntrackShard shard, scoped ReadOnlySpan<int> group, DateTimeOffset now, ref InPlaceAnswers answered)
    {
        var all = request.Inputs;
        if (group.Length == all.Length)
        {
            // The whole request on one shard (always, with one PMD hosting every shard): a group keeps
            // arrival order, so it is the request's inputs as they are; no copy.
            TrackInPlace(shard, all, request.Args, request.NowMs, request.Id, group, now, ref answered);
            return;
        }

        Span<ConntrackInput> inputs = stackalloc ConntrackInput[group.Length];
        for (int i = 0; i < group.Length; i++)
        {
            inputs[i] = all[group[i]];
        }

        TrackInPlace(shard, inputs, request.Args, request.NowMs, request.Id, group, now, ref answered);
    }

    private void TrackInPlace(ConntrackShard shard, scoped ReadOnlySpan<ConntrackInput> inputs, in ConntrackArgs args, long nowMs, long requestId, scoped ReadOnlySpan<int> group, DateTimeOffset now, ref InPlaceAnswers answered)
    {
        var results = answered.Next(group.Length);
        bool done = shard.TryExecute(inputs, in args, nowMs, now, results, this, requestId, group);
        LocalInputs += group.Length;

        // Revocations first, so a connection that just left the established state loses its bypass
        // flows before the packets behind it are looked up.
        DeliverNotices(shard);
        if (!done)
        {
            return;
        }

        if (!AnyOwnedElsewhere(results))
        {
            answered.Keep(group);
            return;
        }

        // Sent on to another shard's owner: what was answered before goes on first, as it came.
        Flush(requestId, ref answered);
        SendOn(requestId, group, results, inputs, in args, nowMs);
    }

    private void TrackOneInPlace(ConntrackShard shard, ReadOnlySpan<ConntrackInput> input, in ConntrackArgs args, long nowMs, long requestId, ReadOnlySpan<int> index)
    {
        var answered = new InPlaceAnswers(stackalloc int[1], stackalloc ConntrackResult[1]);
        TrackInPlace(shard, input, in args, nowMs, requestId, index, Now, ref answered);
        Flush(requestId, ref answered);
    }

    private void Flush(long requestId, ref InPlaceAnswers answered)
    {
        if (answered.Count > 0)
        {
            _answers.Complete(requestId, answered.Indices, answered.Results);
            answered.Clear();
        }
    }

    private static bool AnyOwnedElsewhere(ReadOnlySpan<ConntrackResult> results)
    {
        int elsewhere = 0;
        foreach (var result in results)
        {
            elsewhere += result.OwnedElsewhere ? 1 : 0;
        }

        return elsewhere > 0;
    }

    /// <summary>
    /// The answers of a request's groups tracked in place, kept to be continued together (on the
    /// stack of the one <see cref="Submit"/> they belong to: an answer runs packets on, which may
    /// submit again, and that request keeps its own).
    /// </summary>
    private ref struct InPlaceAnswers(Span<int> indices, Span<ConntrackResult> results)
    {
        private readonly Span<int> _indices = indices;
        private readonly Span<ConntrackResult> _results = results;

        public int Count { get; private set; }

        public readonly ReadOnlySpan<int> Indices => _indices[..Count];

        public readonly ReadOnlySpan<ConntrackResult> Results => _results[..Count];

        /// <summary>Where the next group's results go (kept only by <see cref="Keep"/>).</summary>
        public readonly Span<ConntrackResult> Next(int length) => _results.Slice(Count, length);

        public void Keep(scoped ReadOnlySpan<int> group)
        {
            group.CopyTo(_indices[Count..]);
            Count += group.Length;
        }

        public void Clear() => Count = 0;
    }

    /// <summary>A hosted shard ran a batch of this PMD's it had kept (a claim of a translated connection was answered).</summary>
    public void Complete(long requestId, int[] indices, ConntrackResult[] results, ConntrackInput[] inputs, in ConntrackArgs args, long nowMs) =>
        Answer(requestId, indices, results, inputs, in args, nowMs);

    /// <summary>
    /// Answers a group, sending on to their owners the inputs whose tuple belongs to a translated
    /// connection of another shard. The common case (none) costs one pass over the results.
    /// </summary>
    public void Answer(long requestId, ReadOnlySpan<int> indices, ReadOnlySpan<ConntrackResult> results, ReadOnlySpan<ConntrackInput> inputs, in ConntrackArgs args, long nowMs)
    {
        if (!AnyOwnedElsewhere(results))
        {
            _answers.Complete(requestId, indices, results);
            return;
        }

        SendOn(requestId, indices, results, inputs, in args, nowMs);
    }

    private void SendOn(long requestId, ReadOnlySpan<int> indices, ReadOnlySpan<ConntrackResult> results, ReadOnlySpan<ConntrackInput> inputs, in ConntrackArgs args, long nowMs)
    {
        var finalIndices = new List<int>(indices.Length);
        var finalResults = new List<ConntrackResult>(indices.Length);
        var onward = new List<(int Index, ConntrackInput Input)>();
        for (int i = 0; i < indices.Length; i++)
        {
            if (!results[i].OwnedElsewhere)
            {
                finalIndices.Add(indices[i]);
                finalResults.Add(results[i]);
            }
            else if (inputs[i].Reroutes >= 2)
            {
                // Never more than there and back: a third hop would be a bug, not a route.
                finalIndices.Add(indices[i]);
                finalResults.Add(ConnectionTable.InvalidResult(args.Zone));
            }
            else
            {
                onward.Add((indices[i], inputs[i].SentOnTo(results[i].OwnerHash)));
            }
        }

        if (finalIndices.Count > 0)
        {
            _answers.Complete(requestId, finalIndices.ToArray(), finalResults.ToArray());
        }

        foreach (var (index, input) in onward)
        {
            SentOnToOwner++;
            int shardId = ConntrackShards.ShardOf(input.RoutingHash, _splitter.ShardCount);
            ReadOnlySpan<int> one = [index];
            ReadOnlySpan<ConntrackInput> inputOne = [input];
            if (_hosted.TryGetActive(shardId, out var shard))
            {
                TrackOneInPlace(shard, inputOne, in args, nowMs, requestId, one);
            }
            else
            {
                _remote.Send(requestId, in args, nowMs, shardId, [index], [input]);
            }
        }
    }
}
