using Actors.Cluster;
using Actors.Tests.Support;
using Akka.Actor;
using Akka.Cluster.Sharding;

namespace Actors.Tests.Cluster;

/// <summary>A single-node <see cref="DatapathCluster"/>: its conntrack shards start on first use, or when asked to be ready.</summary>
public sealed class DatapathClusterTests
{
    private const int Shards = 4;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task No_shard_runs_until_asked_and_every_shard_runs_once_conntrack_is_ready()
    {
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster($"datapath.conntrack.shards = {Shards}"), "test", upTimeout: Patience);
        Assert.Empty(await HostedShards(cluster));

        await cluster.WhenConntrackReadyAsync(Patience);

        // Every shard answered: each runs here, so the main job's first packets wait for none.
        Assert.Equal(Enumerable.Range(0, Shards).Select(s => s.ToString(System.Globalization.CultureInfo.InvariantCulture)), (await HostedShards(cluster)).Order());
    }

    private static async Task<IEnumerable<string>> HostedShards(DatapathCluster cluster) =>
        (await cluster.Conntrack.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, Patience)).Shards.Select(s => s.ShardId);
}
