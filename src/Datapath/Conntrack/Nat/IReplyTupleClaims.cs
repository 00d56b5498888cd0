namespace Datapath.Conntrack.Nat;

/// <summary>What became of a claim on a candidate reply tuple.</summary>
public enum ReplyClaim : byte
{
    /// <summary>Another connection of the zone holds the tuple (as its original or reply tuple).</summary>
    Taken,

    /// <summary>Free, and the claiming table itself owns the tuple's bucket: it indexes the tuple.</summary>
    ClaimedHere,

    /// <summary>
    /// Free, and reserved in the table that owns the tuple's bucket (which now answers lookups of
    /// it with the connection's original key): the claiming table keeps the tuple without indexing it.
    /// </summary>
    ClaimedElsewhere,

    /// <summary>
    /// Not known yet: the answer needs a message. The table commits nothing and stops the batch at
    /// this packet (<see cref="ConnectionTable.ExecuteUntilClaim"/>); the packet runs again once the
    /// answer is in.
    /// </summary>
    Pending,
}

/// <summary>How a table that owns a tuple's bucket sees the tuple (<see cref="ConnectionTable.CheckReplyTuple"/>).</summary>
public enum ReplyUse : byte
{
    Free,

    /// <summary>A connection of this table has it as its original or reply tuple.</summary>
    Taken,

    /// <summary>Reserved for a connection another table owns (it may have expired there).</summary>
    Reserved,
}

/// <summary>A reservation of <paramref name="Reply"/> for the connection <paramref name="Original"/> that its owner gave up.</summary>
public readonly record struct ReplyRelease(ConntrackKey Reply, ConntrackKey Original);

/// <summary>
/// Decides whether a candidate reply tuple of a new translated connection is free in its zone, and
/// reserves it when it is (the uniqueness rule of OVS's nat_get_unique_tuple: no two connections
/// of a zone share a reply tuple, and none has it as its original tuple). A
/// <see cref="ConnectionTable"/> alone asks itself; a table that is one shard of several gives one
/// that asks the shard the candidate hashes to (<see cref="ConnectionTable.TryReserveReplyTuple"/>
/// there), so that a connection has one owner while its other key leads to it.
/// </summary>
public interface IReplyTupleClaims
{
    /// <param name="reply">The candidate reply tuple (zone included).</param>
    /// <param name="replyHash">Its symmetric hash (<see cref="ConntrackInputParser.ShardHashOf"/>).</param>
    /// <param name="original">The new connection's original key, the owner a reservation points to.</param>
    ReplyClaim TryClaim(in ConntrackKey reply, uint replyHash, in ConntrackKey original, long nowMs);

    /// <summary>The search for <paramref name="original"/> ended with <paramref name="outcome"/> (<see cref="ReplyClaim.Pending"/>: it runs again later).</summary>
    void SearchEnded(in ConntrackKey original, ReplyClaim outcome)
    {
    }
}
