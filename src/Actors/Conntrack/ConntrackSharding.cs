using Akka.Actor;
using Akka.Cluster.Sharding;

namespace Actors.Conntrack;

/// <summary>
/// The conntrack shard region: ClusterSharding type "conntrack", one <see cref="ConntrackShardActor"/>
/// entity per shard. Every node that tracks connections starts it (one call); the region sends each
/// message to the node that owns its shard, starting the shard actor on first use. A shard moved
/// to another node by a rebalance starts there empty, as after <see cref="RestartShard"/>.
/// </summary>
public static class ConntrackSharding
{
    public const string TypeName = "conntrack";

    /// <summary>Starts this node's conntrack region and returns it.</summary>
    public static Task<IActorRef> StartAsync(ActorSystem system, ConntrackSettings settings)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(settings);
        return ClusterSharding.Get(system).StartAsync(
            TypeName,
            entityId => ConntrackShardActor.Props(ConntrackMessageExtractor.ShardOfEntity(entityId), settings, () => Region(system)),
            ClusterShardingSettings.Create(system),
            new ConntrackMessageExtractor(settings.Shards));
    }

    /// <summary>The region started on this node by <see cref="StartAsync"/>.</summary>
    public static IActorRef Region(ActorSystem system) => ClusterSharding.Get(system).ShardRegion(TypeName);
}
