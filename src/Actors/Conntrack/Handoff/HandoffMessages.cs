using Actors.Wire;
using Akka.Actor;

namespace Actors.Conntrack.Handoff;

// Moving a conntrack shard's table with the shard (DESIGN.md: "A shard that moves takes its table
// with it"; Akka never migrates entity state by itself). The old entity parks its ConntrackShard
// with its node's keeper (ShardKeeperActor) and stops; the shard's new entity, wherever the
// coordinator starts it, claims it from every node's keeper, and the keeper that has it streams the
// table in chunks, one acknowledged window at a time. Everything that crosses nodes is a wire message.

/// <summary>
/// The sharding hand-off stop message of the conntrack region (instead of PoisonPill): the entity
/// takes its shard back from the PMD that hosts it, parks it with its node's keeper and stops.
/// </summary>
public sealed record HandOffShard : IWireMessage
{
    public static HandOffShard Instance { get; } = new();

    private HandOffShard()
    {
    }
}

/// <summary>From a stopping entity to its node's keeper: keep this shard until its new entity claims it, and send its waiting messages on.</summary>
/// <param name="Waiting">Messages the entity received while taking the shard back, with their senders: sent again through the region, to the new entity.</param>
public sealed record ParkShard(ConntrackShard Shard, IReadOnlyList<(object Message, IActorRef Sender)> Waiting) : INoSerializationVerificationNeeded;

/// <summary>From a shard's new entity to every node's keeper: send me my table if you have it (<see cref="ShardStateChunk"/>), else say <see cref="ShardStateNotHere"/>.</summary>
public sealed record ClaimShardState(int Shard) : IWireMessage;

/// <summary>A keeper has no parked table of this shard.</summary>
public sealed record ShardStateNotHere(int Shard) : IWireMessage;

/// <summary>
/// One chunk of a parked shard's table (<see cref="Datapath.Conntrack.ConnectionTable.TableExport"/>),
/// at most <see cref="HandoffLimits.ChunkBytes"/> of data. <paramref name="Sequence"/> counts from 0 within
/// one transfer (<paramref name="TransferId"/>); <paramref name="Last"/> ends it.
/// </summary>
/// <param name="ClockMs">The shard's clock when parked: expiry times are on it.</param>
/// <param name="Connections">Connections in the whole table.</param>
public sealed record ShardStateChunk(int Shard, long TransferId, int Sequence, bool Last, long ClockMs, int Connections, byte[] Data) : IWireMessage;

/// <summary>The claimant took chunk <paramref name="Sequence"/>: the keeper may send another.</summary>
public sealed record ShardStateChunkAck(int Shard, long TransferId, int Sequence) : IWireMessage;

/// <summary>The claimant has the whole table: the keeper forgets it.</summary>
public sealed record ShardStateAccepted(int Shard, long TransferId, int Connections) : IWireMessage;

/// <summary>The claimant could not take the table after retrying and starts the shard empty (said in its log and counted): the keeper forgets it.</summary>
public sealed record ShardStateGivenUp(int Shard, long TransferId, string Reason) : IWireMessage;

/// <summary>Local: a shard's table arrived at this node's entity (or could not be taken); the keeper counts it.</summary>
/// <param name="TransferMs">From the new entity's claim to the whole table taken (or given up).</param>
public sealed record ShardStateArrived(int Shard, int Connections, long Bytes, int Chunks, int ChunksRejected, int ConnectionsLost, long TransferMs = 0) : INoSerializationVerificationNeeded;

/// <summary>Asks a node's keeper for its counts; answered with <see cref="HandoffStatistics"/>.</summary>
public sealed record GetHandoffStatistics : IWireMessage
{
    public static GetHandoffStatistics Instance { get; } = new();

    private GetHandoffStatistics()
    {
    }
}

/// <summary>One node's hand-off counts since it started.</summary>
/// <param name="HandoffsOut">Shards whose table left this node and was taken by the new owner.</param>
/// <param name="ConnectionsOut">Connections in those tables.</param>
/// <param name="HandoffsIn">Shards whose table arrived at this node.</param>
/// <param name="ConnectionsIn">Connections in those tables.</param>
/// <param name="BytesIn">Chunk bytes of those tables.</param>
/// <param name="ChunksRejected">Chunks that could not be decoded or never came (each one made the claimant retry or give up).</param>
/// <param name="ConnectionsLost">Connections of tables given up after retrying (the shard started empty, said in the log).</param>
/// <param name="Parked">Tables parked here now, waiting for their new owner.</param>
/// <param name="MessagesResent">Shard messages this node's region dropped at a hand-off's start (Akka.Cluster.Sharding's "avoiding reordering") that the keeper sent again.</param>
/// <param name="TransferMsIn">Milliseconds the tables that arrived here took, each from its new entity's claim to the whole table taken, summed.</param>
public sealed record HandoffStatistics(int HandoffsOut, long ConnectionsOut, int HandoffsIn, long ConnectionsIn, long BytesIn, int ChunksRejected, long ConnectionsLost, int Parked, long MessagesResent = 0, long TransferMsIn = 0) : IWireMessage;

/// <summary>Local: answered once no table is parked on this node (a node that leaves waits for it before leaving the cluster).</summary>
public sealed record AwaitNoneParked : INoSerializationVerificationNeeded
{
    public static AwaitNoneParked Instance { get; } = new();

    private AwaitNoneParked()
    {
    }
}

/// <summary>The answer to <see cref="AwaitNoneParked"/>.</summary>
public sealed record NoneParked : INoSerializationVerificationNeeded
{
    public static NoneParked Instance { get; } = new();

    private NoneParked()
    {
    }
}

/// <summary>The bounds of a hand-off.</summary>
public static class HandoffLimits
{
    /// <summary>
    /// Table bytes per chunk: under Akka.Remote's default maximum frame (128,000 bytes) with room for
    /// the envelope, and far under the 256 KiB that any of our messages may take. About 900 connections.
    /// </summary>
    public const int ChunkBytes = 96 * 1024;

    /// <summary>Chunks sent and not yet acknowledged: enough to keep a link busy, few enough to bound the sender's memory.</summary>
    public const int Window = 4;

    /// <summary>How often a claimant may try a table again after a chunk that could not be taken.</summary>
    public const int Attempts = 2;

    /// <summary>How long a new entity waits for every node's keeper to answer its claim before asking the silent ones again (while they are reachable members).</summary>
    public static readonly TimeSpan ClaimPatience = TimeSpan.FromSeconds(10);

    /// <summary>How long a claimant waits for the next chunk before counting it lost.</summary>
    public static readonly TimeSpan ChunkPatience = TimeSpan.FromSeconds(10);

    /// <summary>How often a keeper reminds the region of a parked shard that nobody claimed yet.</summary>
    public static readonly TimeSpan WakeInterval = TimeSpan.FromSeconds(2);

    /// <summary>The keeper's name under /user on every node.</summary>
    public const string KeeperName = "conntrack-handoff";
}

/// <summary>Asks a node's keeper what its conntrack is made of; answered with <see cref="ConntrackShape"/>.</summary>
public sealed record GetConntrackShape : IWireMessage
{
    public static GetConntrackShape Instance { get; } = new();

    private GetConntrackShape()
    {
    }
}

/// <summary>
/// What every node of a cluster must agree on: the shard count (it decides which shard owns a
/// connection) and the table chunk format. <paramref name="Shards"/> is 0 on a node whose region has
/// not started. Also sent locally by <see cref="ConntrackSharding.StartAsync"/> to its node's keeper.
/// </summary>
public sealed record ConntrackShape(int Shards, int TableFormat) : IWireMessage;

/// <summary>
/// To every member's keeper from a node about to hand all its shards off and leave
/// (<c>DatapathCluster.HandOffShardsAsync</c>): give <paramref name="Node"/> no shard from now on
/// (<see cref="LeavingAwareAllocationStrategy"/>). Answered with <see cref="NodeLeavingNoted"/>.
/// </summary>
/// <param name="Node">The leaving node's address (akka.tcp://SYSTEM@HOST:PORT).</param>
public sealed record NodeLeaving(string Node) : IWireMessage;

/// <summary>The keeper noted <see cref="NodeLeaving"/>.</summary>
public sealed record NodeLeavingNoted(string Node) : IWireMessage;
