using Datapath.Tests.Support;
using Actors.Cluster;
using Actors.Tests.Support;
using Akka.Actor;
using Akka.Cluster.Sharding;

namespace Actors.Tests.Cluster;

/// <summary>A single-node <see cref="DatapathCluster"/> (the embedded default: it joins itself).</summary>
public sealed class DatapathClusterTests
{
    private const int Shards = 4;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_node_alone_returns_with_every_conntrack_shard_running()
    {
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster($"datapath.conntrack.shards = {Shards}"), Defaults.ConntrackSettings with { Shards = Shards }, upTimeout: Patience);

        // Without this, the first packets of a job wait for the shards to start (and for the
        // region's coordinator registration, retried every 2 s), longer than a connection's timeout.
        var state = await cluster.Conntrack.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, Patience);
        Assert.Equal(Enumerable.Range(0, Shards).Select(s => s.ToString(System.Globalization.CultureInfo.InvariantCulture)), state.Shards.Select(s => s.ShardId).Order());
        await cluster.WhenConntrackReadyAsync(Patience);
    }
}
