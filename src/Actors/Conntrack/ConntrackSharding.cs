using Actors.Conntrack.Handoff;
using Akka.Actor;
using Akka.Cluster.Sharding;

namespace Actors.Conntrack;

/// <summary>
/// The conntrack shard region: ClusterSharding type "conntrack", one <see cref="ConntrackShardActor"/>
/// entity per shard. Every node that tracks connections starts it (one call); the region sends each
/// message to the node that owns its shard, starting the shard actor on first use. A shard moved
/// to another node (rebalance, a node leaving) takes its table with it: sharding stops the old entity
/// with <see cref="HandOffShard"/> and the new one claims the table (src/Actors/Conntrack/Handoff).
/// </summary>
public static class ConntrackSharding
{
    public const string TypeName = "conntrack";

    /// <summary>Starts this node's conntrack region and returns it.</summary>
    public static Task<IActorRef> StartAsync(ActorSystem system, ConntrackSettings settings)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(settings);
        ShardHandoff.Get(system).Keeper.Tell(new ConntrackShape(settings.Shards, Datapath.Conntrack.ConnectionTable.TransferFormat));
        Replica.ShardReplicas.Get(system).Keeper.Tell(new Replica.UseConntrackSettings(settings));
        var sharding = ClusterSharding.Get(system);
        var shardingSettings = ClusterShardingSettings.Create(system);
        return sharding.StartAsync(
            TypeName,
            entityId => ConntrackShardActor.Props(ConntrackMessageExtractor.ShardOfEntity(entityId), settings, () => Region(system), claimOnStart: true),
            shardingSettings,
            new ConntrackMessageExtractor(settings.Shards),
            new LeavingAwareAllocationStrategy(sharding.DefaultShardAllocationStrategy(shardingSettings)),
            HandOffShard.Instance);
    }

    /// <summary>The region started on this node by <see cref="StartAsync"/>.</summary>
    public static IActorRef Region(ActorSystem system) => ClusterSharding.Get(system).ShardRegion(TypeName);
}
