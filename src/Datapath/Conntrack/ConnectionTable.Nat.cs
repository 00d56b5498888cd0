using Datapath.Actions;
using Datapath.Conntrack.Nat;
using Datapath.Packets;

namespace Datapath.Conntrack;

/// <summary>
/// NAT: reply tuples of translated connections, their allocation and the rewrite each packet
/// gets (OVS nat_get_unique_tuple, nat_packet). A translated connection keeps its reply tuple in a
/// second slot (<see cref="EntryKind.ReplyKey"/>), indexed in the reply tuple's bucket when this
/// table owns that bucket. A table that is one shard of several can also hold reply tuples of
/// connections that another shard owns (<see cref="EntryKind.RemoteReplyKey"/>): a packet showing
/// such a tuple is answered <see cref="ConntrackResult.OwnedElsewhere"/>, and
/// <see cref="TryGetReplyOwner"/> says which connection to ask.
///
/// How a sharded tracker uses this (one owner per connection, the other key leads to it): the
/// shard that a new connection's original key hashes to owns it. Its table searches candidates in
/// Open vSwitch's order (<see cref="NatTupleSearch"/>) and asks <see cref="ReplyTupleClaims"/>
/// about each: a candidate whose symmetric hash falls in the same shard is checked and indexed
/// locally (<see cref="ReplyClaim.ClaimedHere"/>); one that falls elsewhere is reserved in that
/// shard with <see cref="TryReserveReplyTuple"/> (<see cref="ReplyClaim.ClaimedElsewhere"/>), which
/// then answers its packets "owned elsewhere" so that they are executed by the owner, and the owner
/// keeps the tuple unindexed for its rewrites. When the connection leaves the owner (expiry, flush,
/// replacement), <see cref="ReleaseReplyTuple"/> ends the reservation. A claim that must cross
/// actors cannot be answered synchronously: the search is a resumable value, so the owner can hold
/// the connection (and its packets) pending while it asks, one candidate per round trip.
/// </summary>
public sealed partial class ConnectionTable
{
    /// <summary>What <see cref="Lookup"/> returns for a reply tuple whose connection another table owns.</summary>
    private const int ElsewhereSlot = -2;

    private readonly uint _natSalt;
    private readonly Random _natRandom;
    private readonly Dictionary<ConntrackKey, ConntrackKey> _remoteOwners = [];
    private IReplyTupleClaims _claims;

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
    /// This table's answer to a claim: taken when any connection of the zone has the tuple as its
    /// original or reply tuple (or a reservation holds it); otherwise free and indexed here by the
    /// claimant itself.
    /// </summary>
    public ReplyClaim TryClaim(in ConntrackKey reply, uint replyHash, in ConntrackKey original, long nowMs) =>
        Lookup(in reply, replyHash, nowMs, out _) == -1 ? ReplyClaim.ClaimedHere : ReplyClaim.Taken;

    /// <summary>
    /// Reserves <paramref name="reply"/> for the connection <paramref name="original"/> owned by
    /// another table (the claim of a shard that does not own the tuple's bucket). False when the
    /// tuple is in use here. The reservation lives until <see cref="ReleaseReplyTuple"/>.
    /// </summary>
    public bool TryReserveReplyTuple(in ConntrackKey reply, in ConntrackKey original, long nowMs)
    {
        uint hash = ConntrackInputParser.ShardHashOf(in reply);
        if (Lookup(in reply, hash, nowMs, out _) != -1)
        {
            return false;
        }

        int slot = Allocate();
        ref var entry = ref _entries[slot];
        entry = default;
        entry.Key = reply;
        entry.Hash = hash;
        entry.InUse = true;
        entry.Kind = EntryKind.RemoteReplyKey;
        entry.Link = -1;
        LinkBucket(slot);
        _remoteOwners[reply] = original;
        return true;
    }

    /// <summary>Ends a reservation made by <see cref="TryReserveReplyTuple"/> (its connection left its owner).</summary>
    public bool ReleaseReplyTuple(in ConntrackKey reply)
    {
        if (!_remoteOwners.Remove(reply))
        {
            return false;
        }

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

    /// <summary>The original key of the connection another table owns that <paramref name="key"/> is the reply tuple of.</summary>
    public bool TryGetReplyOwner(in ConntrackKey key, out ConntrackKey original) => _remoteOwners.TryGetValue(key, out original);

    /// <summary>Reply tuples reserved here for connections of other tables.</summary>
    public int ReservedReplyTuples => _remoteOwners.Count;

    /// <summary>Searches the reply tuples Open vSwitch would try, in its order, and claims the first free one.</summary>
    private ReplyClaim FindReplyTuple(in ConntrackKey original, NatArgs nat, long nowMs, out ConntrackKey reply)
    {
        reply = default;
        if (nat.HasAddress && nat.IsIpv6 != original.IsIpv6)
        {
            // The parser refuses such rules; a family mismatch cannot be translated.
            return ReplyClaim.Taken;
        }

        var search = new NatTupleSearch(in original, nat, _natSalt, _natRandom);
        while (search.TryNext(out var candidate))
        {
            var claim = _claims.TryClaim(in candidate, ConntrackInputParser.ShardHashOf(in candidate), in original, nowMs);
            if (claim != ReplyClaim.Taken)
            {
                reply = candidate;
                return claim;
            }
        }

        return ReplyClaim.Taken;
    }

    private void LinkReplyKey(int slot, int alias, in ConntrackKey replyKey, NatKind kind, bool index)
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

        replySlot.Unindexed = !index;
        if (index)
        {
            LinkBucket(alias);
        }
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
