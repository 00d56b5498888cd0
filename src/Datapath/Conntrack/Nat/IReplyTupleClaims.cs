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
}

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
}
