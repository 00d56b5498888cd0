using Akka.Actor;

namespace Actors.Conntrack;

// Lending a shard to the PMD that hosts it on its own thread (DESIGN.md, "Where a shard lives"). The
// shard's state travels as an ownership transfer: after sending it, the sender never touches it
// again. Local only: a shard is lent to a PMD of the node its entity runs on.

/// <summary>
/// From a shard's entity to the PMD that hosts it: run this shard on your thread and answer its
/// messages (the entity forwards them) until <see cref="ReleaseShard"/>. The PMD takes the shard for
/// its own packets once nothing it sent the shard by message is still unanswered.
/// </summary>
public sealed record HostShard(ConntrackShard Shard, IActorRef Entity) : INoSerializationVerificationNeeded;

/// <summary>From a shard's entity that is stopping (hand-off, shutdown): give the shard back with <see cref="ShardReturned"/>.</summary>
public sealed record ReleaseShard(int Shard) : INoSerializationVerificationNeeded;

/// <summary>A hosting PMD gives a shard back to its entity (asked to, or because the PMD stops or restarts).</summary>
public sealed record ShardReturned(ConntrackShard Shard) : INoSerializationVerificationNeeded;

/// <summary>
/// A shard's message forwarded by its entity to the PMD that hosts it, with the shard it is for (a PMD
/// may host several); the original sender is kept. <see cref="TrackConnections"/> travels unwrapped:
/// it names its shard.
/// </summary>
public sealed record ForShard(int Shard, object Message) : INoSerializationVerificationNeeded;

/// <summary>
/// To a shard's entity (through the region): a PMD of this node may host you now (the node has
/// registered its PMDs in <see cref="ConntrackHosts"/>). An entity already lent, or with no host on
/// its node, does nothing.
/// </summary>
public sealed record FindShardHost : Wire.IWireMessage
{
    public static FindShardHost Instance { get; } = new();

    private FindShardHost()
    {
    }
}
