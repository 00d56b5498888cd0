using Datapath.Actions;
using Datapath.Conntrack.Nat;
using Datapath.Packets;

namespace Datapath.Conntrack;

/// <summary>
/// NAT: reply tuples of translated connections, their allocation and the rewrite each packet
/// gets (OVS nat_get_unique_tuple, nat_packet). A translated connection keeps its reply tuple in a
/// second slot (<see cref="EntryKind.ReplyKey"/>), indexed in the reply tuple's bucket. A table that
/// is one shard of several also holds reply tuples of connections that another shard owns
/// (<see cref="EntryKind.RemoteReplyKey"/>, a reservation): a packet showing such a tuple is
/// answered <see cref="ConntrackResult.OwnedElsewhere"/> with the owner's placement hash, and its
/// sender runs it again at the owner (<see cref="ConntrackInput.SentOnTo"/>).
///
/// One owner per connection, the other key leads to it: the shard that a new connection's
/// original key hashes to owns it. Its table searches candidates in Open vSwitch's order
/// (<see cref="NatTupleSearch"/>) and asks <see cref="ReplyTupleClaims"/> about each; the authority
/// on a candidate is the shard it hashes to, which knows every connection of the zone that uses the
/// tuple (as original key or reservation). A candidate of the owner's own shard is checked here; one
/// of another shard is reserved there (<see cref="ReserveReplyTuple"/>); a claim that needs a message
/// answers <see cref="ReplyClaim.Pending"/> and the packet waits (<see cref="ExecuteUntilClaim"/>)
/// and runs again from the start of the search with the answers known (a seeded search repeats
/// itself). A reservation held for a connection whose owner may have expired it is decided by asking
/// the owner (<see cref="HoldsReplyTuple"/>), as OVS's lookup would find it expired. When the
/// connection leaves its owner, <see cref="DrainReplyReleases"/> says which reservations to end.
/// </summary>
public sealed partial class ConnectionTable
{
    /// <summary>What <see cref="Lookup"/> returns for a reply tuple whose connection another table owns.</summary>
    private const int ElsewhereSlot = -2;

    private readonly uint _natSalt;
    private readonly Random _natRandom;
    private readonly Dictionary<ConntrackKey, ConntrackKey> _remoteOwners = [];
    private readonly List<ReplyRelease> _pendingReleases = [];
    private IReplyTupleClaims _claims;
    private ConntrackKey _elsewhereKey;
    private bool _claimPending;
    private int? _searchSeed;

    /// <summary>
    /// Who decides whether a candidate reply tuple is free (the table itself by default). A shard of
    /// a sharded tracker sets one that asks the shard owning each candidate's bucket.
    /// </summary>
    public IReplyTupleClaims ReplyTupleClaims
    {
        get => _claims;
        set => _claims = value ?? this;
    }

    /// <summary>
    /// This table's answer to a claim on a tuple of its own buckets: taken when any connection of the
    /// zone has the tuple as its original or reply tuple, or a reservation holds it; otherwise free
    /// and indexed here by the claimant itself.
    /// </summary>
    public ReplyClaim TryClaim(in ConntrackKey reply, uint replyHash, in ConntrackKey original, long nowMs) =>
        Lookup(in reply, replyHash, nowMs, out _) == -1 ? ReplyClaim.ClaimedHere : ReplyClaim.Taken;

    /// <summary>
    /// Whether <paramref name="reply"/> (a tuple of this table's buckets) is free: <see cref="ReplyUse.Free"/>,
    /// <see cref="ReplyUse.Taken"/> by a connection here, or <see cref="ReplyUse.Reserved"/> for the
    /// connection <paramref name="holder"/> of another table (which alone knows whether it still lives).
    /// </summary>
    public ReplyUse CheckReplyTuple(in ConntrackKey reply, long nowMs, out ConntrackKey holder)
    {
        holder = default;
        int slot = Lookup(in reply, ConntrackInputParser.ShardHashOf(in reply), nowMs, out _);
        if (slot == ElsewhereSlot)
        {
            holder = _remoteOwners[reply];
            return ReplyUse.Reserved;
        }

        return slot == -1 ? ReplyUse.Free : ReplyUse.Taken;
    }

    /// <summary>
    /// Reserves <paramref name="reply"/> for the connection <paramref name="original"/> owned by
    /// another table (the claim of a shard that does not own the tuple's bucket). False when the
    /// tuple is in use here. The reservation lives until <see cref="ReleaseReplyTuple(in ConntrackKey)"/>.
    /// </summary>
    public bool TryReserveReplyTuple(in ConntrackKey reply, in ConntrackKey original, long nowMs) =>
        ReserveReplyTuple(in reply, in original, nowMs, out _) == ReplyUse.Free;

    /// <summary>
    /// Reserves <paramref name="reply"/> for <paramref name="original"/> when it is free (or already
    /// reserved for it), answering <see cref="ReplyUse.Free"/>; otherwise says who uses it, as
    /// <see cref="CheckReplyTuple"/> does, and reserves nothing.
    /// </summary>
    public ReplyUse ReserveReplyTuple(in ConntrackKey reply, in ConntrackKey original, long nowMs, out ConntrackKey holder)
    {
        var use = CheckReplyTuple(in reply, nowMs, out holder);
        if (use == ReplyUse.Reserved && ConntrackKey.Equals(in holder, in original))
        {
            return ReplyUse.Free;
        }

        if (use != ReplyUse.Free)
        {
            return use;
        }

        Reserve(in reply, in original);
        return ReplyUse.Free;
    }

    /// <summary>Indexes <paramref name="reply"/> as reserved for <paramref name="original"/>, a connection another table owns (a claim, or a moved table's reservation).</summary>
    private void Reserve(in ConntrackKey reply, in ConntrackKey original)
    {
        int slot = Allocate();
        ref var entry = ref _entries[slot];
        entry = default;
        entry.Key = reply;
        entry.Hash = ConntrackInputParser.ShardHashOf(in reply);
        entry.InUse = true;
        entry.Kind = EntryKind.RemoteReplyKey;
        entry.Link = -1;
        LinkBucket(slot);
        _remoteOwners[reply] = original;
        NoteReservation(true, in reply, in original);
    }

    /// <summary>Ends the reservation of <paramref name="reply"/> when it is held for <paramref name="original"/> (a late release of an earlier holder changes nothing).</summary>
    public bool ReleaseReplyTuple(in ConntrackKey reply, in ConntrackKey original) =>
        _remoteOwners.TryGetValue(reply, out var holder) && ConntrackKey.Equals(in holder, in original) && ReleaseReplyTuple(in reply);

    /// <summary>Ends a reservation made by <see cref="TryReserveReplyTuple"/> (its connection left its owner).</summary>
    public bool ReleaseReplyTuple(in ConntrackKey reply)
    {
        if (!_remoteOwners.Remove(reply, out var original))
        {
            return false;
        }

        NoteReservation(false, in reply, in original);

        uint hash = ConntrackInputParser.ShardHashOf(in reply);
        for (int slot = _buckets[BucketOf(hash)]; slot >= 0; slot = _entries[slot].Next)
        {
            ref var entry = ref _entries[slot];
            if (entry.Kind == EntryKind.RemoteReplyKey && ConntrackKey.Equals(in entry.Key, in reply))
            {
                UnlinkBucket(slot);
                FreeSlot(slot);
                return true;
            }
        }

        return true;
    }

    /// <summary>
    /// The owner's side of a reservation held elsewhere: does the live connection
    /// <paramref name="original"/> here have <paramref name="reply"/> as its reply tuple? A connection
    /// whose time is up is removed by the question (and its reservation released through
    /// <see cref="DrainReplyReleases"/>), as OVS's lookup during the tuple search would find it expired.
    /// </summary>
    public bool HoldsReplyTuple(in ConntrackKey original, in ConntrackKey reply, long nowMs)
    {
        int slot = Lookup(in original, ConntrackInputParser.ShardHashOf(in original), nowMs, out bool isReply);
        return slot >= 0 && !isReply && _entries[slot].Link >= 0 && ConntrackKey.Equals(in _entries[_entries[slot].Link].Key, in reply);
    }

    /// <summary>The original key of the connection another table owns that <paramref name="key"/> is the reply tuple of.</summary>
    public bool TryGetReplyOwner(in ConntrackKey key, out ConntrackKey original) => _remoteOwners.TryGetValue(key, out original);

    /// <summary>Reply tuples reserved here for connections of other tables.</summary>
    public int ReservedReplyTuples => _remoteOwners.Count;

    /// <summary>Reservations elsewhere that connections leaving this table gave up, not drained yet.</summary>
    public int PendingReplyReleases => _pendingReleases.Count;

    /// <summary>Hands over (and forgets) the reservations to end: each tuple's table is told (<see cref="ReleaseReplyTuple(in ConntrackKey, in ConntrackKey)"/>).</summary>
    public void DrainReplyReleases(List<ReplyRelease> releases)
    {
        ArgumentNullException.ThrowIfNull(releases);
        releases.AddRange(_pendingReleases);
        _pendingReleases.Clear();
    }

    /// <summary>The claim a <see cref="ExecuteUntilClaim"/> stopped at waits for an answer.</summary>
    public bool PendingClaim => _claimPending;

    private void QueueReplyRelease(in ConntrackKey reply, in ConntrackKey original) => _pendingReleases.Add(new ReplyRelease(reply, original));

    /// <summary>Searches the reply tuples Open vSwitch would try, in its order, and claims the first free one.</summary>
    private ReplyClaim FindReplyTuple(in ConntrackKey original, NatArgs nat, long nowMs, out ConntrackKey reply)
    {
        reply = default;
        if (nat.HasAddress && nat.IsIpv6 != original.IsIpv6)
        {
            // The parser refuses such rules; a family mismatch cannot be translated.
            return ReplyClaim.Taken;
        }

        // A search that may have to wait for an answer runs again from the start: its random ports
        // come from a seed kept until it ends, so it tries the same candidates in the same order.
        var random = _claims == this ? _natRandom : new Random(_searchSeed ??= _natRandom.Next());
        var search = new NatTupleSearch(in original, nat, _natSalt, random);
        var claim = ReplyClaim.Taken;
        while (search.TryNext(out var candidate))
        {
            claim = _claims.TryClaim(in candidate, ConntrackInputParser.ShardHashOf(in candidate), in original, nowMs);
            if (claim != ReplyClaim.Taken)
            {
                reply = candidate;
                break;
            }
        }

        if (claim != ReplyClaim.Pending)
        {
            _searchSeed = null;
        }

        _claims.SearchEnded(in original, claim);
        return claim;
    }

    private void LinkReplyKey(int slot, int alias, in ConntrackKey replyKey, NatKind kind, bool claimedElsewhere)
    {
        ref var entry = ref _entries[slot];
        entry.Nat = kind == NatKind.Source ? NatAction.Source : NatAction.Destination;
        entry.Link = alias;
        ref var replySlot = ref _entries[alias];
        replySlot = default;
        replySlot.Key = replyKey;
        replySlot.Hash = ConntrackInputParser.ShardHashOf(in replyKey);
        replySlot.InUse = true;
        replySlot.Kind = EntryKind.ReplyKey;
        replySlot.Link = slot;
        replySlot.Next = -1;

        replySlot.ClaimedElsewhere = claimedElsewhere;
        LinkBucket(alias);
    }

    /// <summary>
    /// OVS nat_packet: the rewrite for a packet of the connection in <paramref name="slot"/>, and its
    /// +snat or +dnat (the reply direction undoes the translation, so it shows the other flag).
    /// </summary>
    private NatRewrite Translation(int slot, bool reply, bool related, ref CtState state)
    {
        ref var entry = ref _entries[slot];
        bool source = (entry.Nat == NatAction.Source) != reply;
        state |= source ? CtState.SrcNat : CtState.DstNat;
        var target = reply ? entry.Key.Reverse() : _entries[entry.Link].Key.Reverse();
        Stats.Record(ConntrackCounter.NatTranslated);
        return NatRewrite.To(in target, source, related);
    }

    /// <summary>The reply tuple of a connection slot: its reply key's for a translated one, else its key reversed.</summary>
    private ConntrackKey ReplyKeyOf(int slot)
    {
        ref var entry = ref _entries[slot];
        return entry.Link >= 0 ? _entries[entry.Link].Key : entry.Key.Reverse();
    }
}
