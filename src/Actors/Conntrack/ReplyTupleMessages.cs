using Actors.Wire;
using Datapath.Conntrack;

namespace Actors.Conntrack;

// The claims of translated connections on reply tuples (ConnectionTable.Nat: one owner per
// connection, the other key leads to it). The authority on a tuple is the shard it hashes to;
// the owner of a new connection asks it, by message when it cannot ask in place. Every message
// names the shard it is for, so a PMD hosting several shards, or an entity that lent its shard,
// passes it on like any other message of that shard.

/// <summary>
/// From the owner of a new translated connection (<paramref name="AskedBy"/>) to the shard a
/// candidate reply tuple hashes to: reserve <paramref name="Reply"/> for <paramref name="Original"/>
/// if no connection of the zone uses it. Answered with <see cref="ReplyTupleReserved"/>.
/// </summary>
public sealed record ReserveReplyTuple(int Shard, int AskedBy, ConntrackKey Reply, ConntrackKey Original, long NowMs) : IConntrackShardMessage;

/// <summary>The answer to <see cref="ReserveReplyTuple"/>, for shard <paramref name="Shard"/> (the one that asked).</summary>
public sealed record ReplyTupleReserved(int Shard, ConntrackKey Reply, ConntrackKey Original, bool Granted) : IConntrackShardMessage;

/// <summary>From a connection's owner to its reply tuple's shard: the connection is gone, end the reservation (if it is still its). No answer.</summary>
public sealed record ReplyTupleReleased(int Shard, ConntrackKey Reply, ConntrackKey Original) : IConntrackShardMessage;

/// <summary>
/// To the owner of <paramref name="Original"/>: does that connection still live with reply tuple
/// <paramref name="Reply"/> at <paramref name="NowMs"/>? Asked by the shard holding the reservation
/// when another connection wants the tuple (<paramref name="ForClaim"/> false), or by an owner whose
/// own bucket holds it (<paramref name="ForClaim"/> true). Answered with <see cref="ReplyOwnerChecked"/>.
/// </summary>
public sealed record CheckReplyOwner(int Shard, int AskedBy, ConntrackKey Original, ConntrackKey Reply, long NowMs, bool ForClaim) : IConntrackShardMessage;

/// <summary>The answer to <see cref="CheckReplyOwner"/>, for shard <paramref name="Shard"/> (the one that asked).</summary>
public sealed record ReplyOwnerChecked(int Shard, ConntrackKey Original, ConntrackKey Reply, bool Alive, bool ForClaim) : IConntrackShardMessage;
