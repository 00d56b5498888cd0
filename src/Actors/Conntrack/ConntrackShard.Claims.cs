using Akka.Actor;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Conntrack.Nat;

namespace Actors.Conntrack;

/// <summary>
/// Where a hosting PMD hears from a shard that kept a batch of its own packets
/// (<see cref="ConntrackShard.TryExecute"/> returned false): the whole batch's results, once it ran.
/// </summary>
public interface IDeferredConntrackAnswers
{
    void Complete(long requestId, int[] indices, ConntrackResult[] results, ConntrackInput[] inputs, in ConntrackArgs args, long nowMs);
}

/// <summary>
/// Translated connections across shards (ConnectionTable.Nat, DESIGN.md "Where a shard lives"):
/// the claims of this shard's new connections on reply tuples of other shards, and this shard's
/// answers to other shards' claims on tuples of its buckets. A batch whose new connection waits for
/// an answer is kept, and so is every batch behind it, in order (the packets of a connection never
/// overtake one another); the shard asks and carries on with other messages meanwhile. The
/// questions go through the region, so they reach the shard wherever it is hosted; the shards that
/// the same owner holds (a PMD hosting several) are asked in place, with no message.
/// </summary>
public sealed partial class ConntrackShard
{
    private readonly Queue<KeptBatch> _deferred = new();
    private readonly List<(ReserveReplyTuple Request, IActorRef Sender)> _parked = [];
    private readonly List<ReplyRelease> _releases = [];
    private ShardReplyClaims _claims;
    private IActorRef? _region;
    private Func<int, ConntrackShard?>? _peers;

    /// <summary>Batches kept until a claim is answered.</summary>
    public int KeptBatches => _deferred.Count;

    /// <summary>Claims of this shard answered by message (counted when asked).</summary>
    public long ClaimMessages { get; private set; }

    /// <summary>
    /// Who owns the shard now: the region its questions go through, and the other shards the same
    /// owner holds (which it may ask in place), or null. Set by every new owner.
    /// </summary>
    public void AttachTo(IActorRef region, Func<int, ConntrackShard?>? peers)
    {
        _region = region;
        _peers = peers;
    }

    /// <summary>The owner gives up the batches of its own packets it was waiting for (a hosting PMD that stops).</summary>
    public void DropLocalBatches()
    {
        var kept = _deferred.Where(b => b is not LocalBatch).ToList();
        _deferred.Clear();
        foreach (var batch in kept)
        {
            _deferred.Enqueue(batch);
        }
    }

    /// <summary>Tells the shards of released reply tuples (in place when the same owner holds them).</summary>
    public void FlushReleases()
    {
        if (Table.PendingReplyReleases == 0)
        {
            return;
        }

        _releases.Clear();
        Table.DrainReplyReleases(_releases);
        foreach (var release in _releases)
        {
            Release(release.Reply, release.Original);
        }
    }

    internal ConntrackShard? Peer(int shard) => shard == Id ? null : _peers?.Invoke(shard);

    internal int OwnerShardOf(in ConntrackKey key) => ConntrackShards.ShardOf(ConntrackInputParser.ShardHashOf(in key), Settings.Shards);

    /// <summary>A claim of another shard held by the same owner, answered in place: true reserved, false taken, null when only a message can tell.</summary>
    internal bool? ReserveInPlace(in ConntrackKey reply, in ConntrackKey original, long nowMs)
    {
        var use = Table.ReserveReplyTuple(in reply, in original, nowMs, out var holder);
        if (use == ReplyUse.Reserved)
        {
            switch (HolderAlive(in holder, in reply, nowMs))
            {
                case null:
                    return null;
                case true:
                    return false;
                default:
                    Table.ReleaseReplyTuple(in reply, in holder);
                    use = Table.ReserveReplyTuple(in reply, in original, nowMs, out _);
                    break;
            }
        }

        return use == ReplyUse.Free;
    }

    /// <summary>Whether the connection a reservation is held for still lives, when its owner can be asked in place.</summary>
    internal bool? HolderAlive(in ConntrackKey holder, in ConntrackKey reply, long nowMs)
    {
        int ownerShard = OwnerShardOf(in holder);
        var owner = ownerShard == Id ? this : Peer(ownerShard);
        if (owner is null)
        {
            return null;
        }

        bool alive = owner.Table.HoldsReplyTuple(in holder, in reply, nowMs);
        owner.FlushReleases();
        return alive;
    }

    /// <summary>Ends the reservation of <paramref name="reply"/> for <paramref name="original"/> in the shard of the tuple.</summary>
    internal void Release(in ConntrackKey reply, in ConntrackKey original)
    {
        int shard = OwnerShardOf(in reply);
        if (shard == Id)
        {
            Table.ReleaseReplyTuple(in reply, in original);
        }
        else if (Peer(shard) is { } peer)
        {
            peer.Table.ReleaseReplyTuple(in reply, in original);
        }
        else
        {
            _region?.Tell(new ReplyTupleReleased(shard, reply, original));
        }
    }

    private ConnectionTable NewTable()
    {
        var table = new ConnectionTable(Settings.ShardOptions());
        if (Settings.Shards > 1)
        {
            table.ReplyTupleClaims = _claims;
        }

        ApplySettings(table);
        return table;
    }

    private void ForgetClaims()
    {
        _claims = new ShardReplyClaims(this);
        Table.ReplyTupleClaims = Settings.Shards > 1 ? _claims : null!;
        _parked.Clear();
    }

    private void Track(TrackConnections track, IActorRef sender, DateTimeOffset now)
    {
        var results = new ConntrackResult[track.Inputs.Length];
        var args = track.Args;
        Batches++;
        Packets += track.Inputs.Length;
        var batch = new MessageBatch(track.Inputs, args, track.NowMs, results, sender, track.BatchId);
        if (_deferred.Count == 0)
        {
            batch.Next = Table.ExecuteUntilClaim(track.Inputs, in args, Tick(track.NowMs, now), results);
            if (batch.Next == track.Inputs.Length)
            {
                batch.Complete(this);
                return;
            }
        }

        Defer(batch);
    }

    private void Defer(KeptBatch batch)
    {
        _deferred.Enqueue(batch);
        if (_deferred.Count == 1)
        {
            Ask();
        }
    }

    /// <summary>Sends the question the head batch waits for (releases first, so a tuple given up is free when the question arrives).</summary>
    private void Ask()
    {
        FlushReleases();
        if (_claims.Question is { } question)
        {
            ClaimMessages++;
            _region?.Tell(question);
        }
    }

    /// <summary>Runs the kept batches again, in order, until one waits for another answer.</summary>
    private void Resume(DateTimeOffset now)
    {
        while (_deferred.TryPeek(out var batch))
        {
            var args = batch.Args;
            batch.Next += Table.ExecuteUntilClaim(batch.Inputs.AsSpan(batch.Next), in args, Tick(batch.SenderMs, now), batch.Results.AsSpan(batch.Next));
            if (batch.Next < batch.Inputs.Length)
            {
                Ask();
                return;
            }

            _deferred.Dequeue();
            batch.Complete(this);
        }
    }

    private bool HandleClaim(object message, IActorRef sender, DateTimeOffset now)
    {
        switch (message)
        {
            case ReserveReplyTuple reserve:
                HandleReserve(reserve, sender, now);
                return true;

            case ReplyTupleReserved reserved:
                _claims.Record(reserved.Original, reserved.Reply, reserved.Granted);
                Resume(now);
                return true;

            case ReplyTupleReleased released:
                Table.ReleaseReplyTuple(released.Reply, released.Original);
                return true;

            case CheckReplyOwner check:
                bool alive = Table.HoldsReplyTuple(check.Original, check.Reply, Math.Max(check.NowMs, NowMs(now)));
                FlushReleases();
                sender.Tell(new ReplyOwnerChecked(check.AskedBy, check.Original, check.Reply, alive, check.ForClaim));
                return true;

            case ReplyOwnerChecked { ForClaim: true } checkedForClaim:
                _claims.RecordOwnerChecked(checkedForClaim.Original, checkedForClaim.Reply, checkedForClaim.Alive);
                Resume(now);
                return true;

            case ReplyOwnerChecked checkedForReservation:
                HandleOwnerChecked(checkedForReservation, now);
                return true;

            default:
                return false;
        }
    }

    private void HandleReserve(ReserveReplyTuple request, IActorRef sender, DateTimeOffset now)
    {
        long clock = Math.Max(request.NowMs, NowMs(now));
        var use = Table.ReserveReplyTuple(request.Reply, request.Original, clock, out var holder);
        if (use == ReplyUse.Reserved)
        {
            switch (HolderAlive(in holder, request.Reply, clock))
            {
                case null:
                    // Only the holder's owner knows whether it expired: ask, and answer then.
                    _parked.Add((request, sender));
                    _region?.Tell(new CheckReplyOwner(OwnerShardOf(in holder), Id, holder, request.Reply, clock, ForClaim: false));
                    return;
                case false:
                    Table.ReleaseReplyTuple(request.Reply, in holder);
                    use = Table.ReserveReplyTuple(request.Reply, request.Original, clock, out _);
                    break;
                default:
                    break;
            }
        }

        sender.Tell(new ReplyTupleReserved(request.AskedBy, request.Reply, request.Original, use == ReplyUse.Free));
    }

    private void HandleOwnerChecked(ReplyOwnerChecked answer, DateTimeOffset now)
    {
        if (!answer.Alive)
        {
            Table.ReleaseReplyTuple(answer.Reply, answer.Original);
        }

        var waiting = _parked.Where(p => ConntrackKey.Equals(p.Request.Reply, answer.Reply)).ToList();
        _parked.RemoveAll(p => ConntrackKey.Equals(p.Request.Reply, answer.Reply));
        foreach (var (request, sender) in waiting)
        {
            if (answer.Alive)
            {
                sender.Tell(new ReplyTupleReserved(request.AskedBy, request.Reply, request.Original, Granted: false));
            }
            else
            {
                HandleReserve(request, sender, now);
            }
        }
    }

    private static bool AnyOwnedElsewhere(ConntrackResult[] results)
    {
        foreach (var result in results)
        {
            if (result.OwnedElsewhere)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A batch the shard keeps until it can run (<see cref="Next"/>: the first input not run yet).</summary>
    private abstract class KeptBatch(ConntrackInput[] inputs, ConntrackArgs args, long senderMs, ConntrackResult[] results)
    {
        public ConntrackInput[] Inputs { get; } = inputs;

        public ConntrackArgs Args { get; } = args;

        public long SenderMs { get; } = senderMs;

        public ConntrackResult[] Results { get; } = results;

        public int Next { get; set; }

        public abstract void Complete(ConntrackShard shard);
    }

    /// <summary>A <see cref="TrackConnections"/>: answered by message (with its inputs when some must go on to their owner).</summary>
    private sealed class MessageBatch(ConntrackInput[] inputs, ConntrackArgs args, long senderMs, ConntrackResult[] results, IActorRef sender, long batchId)
        : KeptBatch(inputs, args, senderMs, results)
    {
        public override void Complete(ConntrackShard shard) =>
            sender.Tell(new ConnectionsTracked(shard.Id, batchId, Results, AnyOwnedElsewhere(Results) ? Inputs : null));
    }

    /// <summary>The hosting PMD's own packets, tracked in place.</summary>
    private sealed class LocalBatch(ConntrackInput[] inputs, ConntrackArgs args, long senderMs, ConntrackResult[] results, IDeferredConntrackAnswers later, long requestId, int[] indices)
        : KeptBatch(inputs, args, senderMs, results)
    {
        public override void Complete(ConntrackShard shard)
        {
            var args = Args;
            later.Complete(requestId, indices, Results, Inputs, in args, SenderMs);
        }
    }
}
