using Actors.Wire;
using Akka.Actor;

namespace Actors.Conntrack.Replica;

// Replicas of conntrack shards for node loss (conntrackd's FT-FW mode: the peer keeps a copy fed
// by state changes). A shard's owner sends its replica node's keeper (ReplicaKeeperActor) a full
// copy, then once per replication interval what changed (Datapath.Conntrack.ConnectionTable.Replication);
// when the owner's node dies, the shard's new entity claims the replica as it claims a moved table
// (ClaimShardState, ShardStateChunk: src/Actors/Conntrack/Handoff). Everything that crosses nodes is a wire message.

/// <summary>
/// Seed or delta chunks of one shard's table for its replica, one stream per <paramref name="Epoch"/>
/// (a new seed starts a new one): <paramref name="Sequence"/> counts from 0 over the seed's chunks and
/// then the deltas, so the keeper sees any gap. Sent with the shard's entity as sender (the keeper's
/// <see cref="ReplicaResyncNeeded"/> goes there).
/// </summary>
/// <param name="Seed">A chunk of the full copy (the deltas follow the seed's last chunk).</param>
/// <param name="Last">The seed's last chunk: the replica is complete from here on.</param>
/// <param name="ClockMs">The shard's clock when the chunk was written (expiry times are on it).</param>
/// <param name="Data">At most <see cref="ReplicaLimits.ChunkBytes"/> of records.</param>
public sealed record ReplicaChunk(int Shard, long Epoch, long Sequence, bool Seed, bool Last, long ClockMs, byte[] Data) : IWireMessage;

/// <summary>From a keeper to a shard's entity: the replica missed or refused a chunk of <paramref name="Epoch"/>; send a new seed.</summary>
public sealed record ReplicaResyncNeeded(int Shard, long Epoch, string Reason) : IWireMessage;

/// <summary>To a keeper: the shard's owner keeps its replica elsewhere (or nowhere) now; drop yours.</summary>
public sealed record ForgetReplica(int Shard) : IWireMessage;

/// <summary>From a shard's new entity that found no moved table: do you hold a replica of it? Answered with <see cref="ReplicaOffered"/> or <see cref="ReplicaNotHere"/>.</summary>
public sealed record OfferReplica(int Shard) : IWireMessage;

/// <summary>A keeper holds a replica of the shard: complete (a seed and every delta since) or not, this old, this big.</summary>
/// <param name="ClockMs">The owner's clock at the replica's last chunk.</param>
/// <param name="AgeMs">How long ago that chunk arrived.</param>
public sealed record ReplicaOffered(int Shard, long Epoch, bool Complete, int Connections, long ClockMs, long AgeMs) : IWireMessage;

/// <summary>A keeper holds no replica of the shard.</summary>
public sealed record ReplicaNotHere(int Shard) : IWireMessage;

/// <summary>Local, to a node's keeper when its conntrack region starts: the settings its replicas' tables are made with.</summary>
public sealed record UseConntrackSettings(ConntrackSettings Settings) : INoSerializationVerificationNeeded;

/// <summary>Local, from a shard's entity to its node's keeper: the shard started from a replica; counted.</summary>
public sealed record ReplicaPromoted(int Shard, int Connections, bool AfterFailedHandoff) : INoSerializationVerificationNeeded;

/// <summary>Local, from a shard's entity to its node's keeper: the shard started empty although its table was lost (no replica either); counted.</summary>
public sealed record ShardStartedEmpty(int Shard, int ConnectionsLost) : INoSerializationVerificationNeeded;

/// <summary>Asks a node's keeper for its replicas and counts; answered with <see cref="ReplicaStatistics"/>.</summary>
public sealed record GetReplicaStatistics : IWireMessage
{
    public static GetReplicaStatistics Instance { get; } = new();

    private GetReplicaStatistics()
    {
    }
}

/// <summary>One replica a keeper holds.</summary>
/// <param name="Source">The node of the shard's owner that feeds it.</param>
/// <param name="Sequence">The next chunk it expects.</param>
/// <param name="LagMs">How long ago its last chunk arrived (the owner sends one per interval while its table changes).</param>
public sealed record ReplicaState(int Shard, string Source, long Epoch, long Sequence, bool Complete, int Connections, long ClockMs, long LagMs) : IWireMessage;

/// <summary>A node's replicas and counts since it started.</summary>
/// <param name="ChunksApplied">Seed and delta chunks applied.</param>
/// <param name="BytesIn">Bytes of those chunks.</param>
/// <param name="RecordsApplied">Records in those chunks.</param>
/// <param name="ChunksDropped">Chunks refused (damaged, too large, out of sequence, not the shard's): each counted, the owner asked for a new seed.</param>
/// <param name="ResyncsRequested">New seeds asked for.</param>
/// <param name="SeedsCompleted">Full copies taken.</param>
/// <param name="Promotions">Shards that started on this node from a replica (their owner's node died, or their hand-off failed).</param>
/// <param name="ConnectionsPromoted">Connections in those replicas.</param>
/// <param name="FallbacksAfterFailedHandoff">Promotions because a moved table could not be taken.</param>
/// <param name="StartedEmpty">Shards that started empty on this node although a table was lost (no replica), with <paramref name="ConnectionsLost"/>.</param>
public sealed record ReplicaStatistics(
    ReplicaState[] Replicas,
    long ChunksApplied,
    long BytesIn,
    long RecordsApplied,
    long ChunksDropped,
    long ResyncsRequested,
    long SeedsCompleted,
    int Promotions,
    long ConnectionsPromoted,
    int FallbacksAfterFailedHandoff,
    int StartedEmpty,
    long ConnectionsLost) : IWireMessage;

/// <summary>
/// Local, from a shard's entity to whoever owns its <see cref="ConntrackShard"/> (itself, or the PMD
/// hosting it, in a <see cref="ForShard"/>): one replication interval is over; send what changed to
/// <paramref name="Replica"/>, the keeper of <paramref name="ReplicaNode"/> (none: no other node, stop
/// tracking). <paramref name="Entity"/> is the sender of the chunks.
/// </summary>
public sealed record ReplicateShard(ICanTell? Replica, Address? ReplicaNode, IActorRef Entity) : INoSerializationVerificationNeeded;

/// <summary>The bounds of replication.</summary>
public static class ReplicaLimits
{
    /// <summary>Record bytes per chunk, as a hand-off's (<see cref="Handoff.HandoffLimits.ChunkBytes"/>): far under 256 KiB and Akka.Remote's frame.</summary>
    public const int ChunkBytes = Handoff.HandoffLimits.ChunkBytes;

    /// <summary>
    /// Seed chunks an owner sends per interval: a full copy is paced (16 x 96 KiB per 100 ms, about
    /// 15 MB/s) so that it never floods the link its heartbeats share. Deltas are not paced: each
    /// interval's changes go whole.
    /// </summary>
    public const int SeedChunksPerInterval = 16;

    /// <summary>The keeper's name under /user on every node.</summary>
    public const string KeeperName = "conntrack-replicas";
}
