using Actors.Cluster;
using Actors.Conntrack;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.Tests.Support;
using Host.Configuration;

namespace Actors.Tests.Cluster;

/// <summary>
/// A node with the embedded default configuration stands alone: no remoting, no cluster
/// membership, no sharding coordinator, so nothing it starts or stops waits on gossip or a
/// hand-over timeout (what made a two-frame replay take 4 to 5 s). Its shards answer as sharded
/// ones do (ConntrackRegionFacts, ActorReplayTests).
/// </summary>
public sealed class StandaloneNodeTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_default_node_starts_no_cluster_and_stops_without_leaving_one()
    {
        var config = TestConfigs.Standalone();
        var cluster = await DatapathCluster.StartAsync(config, DatapathSettings.From(config, "test").Conntrack);
        var system = cluster.System;

        var stats = await cluster.Conntrack.Ask<ShardStatistics>(new ConntrackEnvelope(0, GetShardStatistics.Instance), Patience);
        await cluster.ShutdownAsync();

        Assert.False(cluster.IsClustered);
        Assert.Equal(0, stats.Shard);
        Assert.IsType<LocalActorRefProvider>(((ExtendedActorSystem)system).Provider);
        Assert.False(system.HasExtension<Akka.Cluster.Cluster>(), "the cluster extension was started");
        Assert.False(system.HasExtension<Akka.Cluster.Sharding.ClusterSharding>(), "sharding was started");
        Assert.IsType<CoordinatedShutdown.ActorSystemTerminateReason>(CoordinatedShutdown.Get(system).ShutdownReason);
        Assert.True(system.WhenTerminated.IsCompleted);
    }

    [Fact]
    public async Task A_cluster_node_leaves_its_cluster_when_it_stops()
    {
        var config = TestConfigs.Cluster();
        var cluster = await DatapathCluster.StartAsync(config, DatapathSettings.From(config, "test").Conntrack, upTimeout: Patience);
        var system = cluster.System;

        await cluster.ShutdownAsync().WaitAsync(Patience);

        Assert.True(cluster.IsClustered);
        Assert.IsType<CoordinatedShutdown.ClusterLeavingReason>(CoordinatedShutdown.Get(system).ShutdownReason);
        Assert.True(system.WhenTerminated.IsCompleted);
    }

    [Fact]
    public async Task Seed_nodes_for_a_standalone_node_are_refused()
    {
        var config = TestConfigs.Standalone();
        var seed = new Address("akka.tcp", "datapath", "127.0.0.1", 4053);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => DatapathCluster.StartAsync(config, Defaults.ConntrackSettings, seedNodes: [seed]));

        Assert.Contains("akka.actor.provider = cluster", error.Message, StringComparison.Ordinal);
    }
}
