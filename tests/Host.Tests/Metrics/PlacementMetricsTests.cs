using Actors.Cluster;
using Actors.Conntrack.Handoff;
using Actors.Conntrack.Replica;
using Host.Control;
using Host.Metrics;
using Prometheus;

namespace Host.Tests.Metrics;

/// <summary>
/// Where the conntrack shards are and each node's hand-offs (<see cref="ConntrackPlacementView"/>, gathered
/// on a real two-node cluster in Actors.Tests' ShardHandoffTests) as `show` prints them and as metrics: one
/// owner series per shard, per-node hand-off counters, series of a shard that moved or a node that left removed.
/// </summary>
public sealed class PlacementMetricsTests
{
    private const string A = "akka.tcp://datapath@127.0.0.1:4053";
    private const string B = "akka.tcp://datapath@127.0.0.1:4054";

    [Fact]
    public async Task Owners_and_hand_offs_become_series_and_a_shard_that_moved_leaves_its_old_owner_s_series()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var metrics = new DatapathMetrics(Prometheus.Metrics.WithCustomRegistry(registry));

        metrics.Publish(Snapshot(new ConntrackPlacementView(4, [Node(A, [0, 2], new HandoffStatistics(2, 300, 0, 0, 0, 0, 0, 0, 1)), Node(B, [1, 3], new HandoffStatistics(0, 0, 2, 300, 32_000, 1, 0, 0, 0, 1_500))], [], true)));
        var first = await ScrapeAsync(registry);
        Assert.Equal(
            [("0", A), ("1", B), ("2", A), ("3", B)],
            first.Where(s => s.Name == "ovs_actors_conntrack_shard_owner").Select(s => (s.Labels["shard"], s.Labels["node"])).Order());
        Assert.Equal(300, Value(first, "ovs_actors_conntrack_connections_moved_total", B, "in"));
        Assert.Equal(300, Value(first, "ovs_actors_conntrack_connections_moved_total", A, "out"));
        Assert.Equal(2, Value(first, "ovs_actors_conntrack_handoffs_total", B, "in"));
        Assert.Equal(32_000, Value(first, "ovs_actors_conntrack_handoff_bytes_total", B));
        Assert.Equal(1, Value(first, "ovs_actors_conntrack_handoff_chunks_rejected_total", B));
        Assert.Equal(1, Value(first, "ovs_actors_conntrack_handoff_messages_resent_total", A));
        Assert.Equal(1.5, Value(first, "ovs_actors_conntrack_handoff_transfer_seconds_total", B));

        // B left: its shards came back to A.
        metrics.Publish(Snapshot(new ConntrackPlacementView(4, [Node(A, [0, 1, 2, 3], new HandoffStatistics(2, 300, 2, 310, 33_000, 0, 0, 0, 1))], [], true)));
        var second = await ScrapeAsync(registry);
        Assert.All(second.Where(s => s.Name == "ovs_actors_conntrack_shard_owner"), s => Assert.Equal(A, s.Labels["node"]));
        Assert.Equal(4, second.Count(s => s.Name == "ovs_actors_conntrack_shard_owner"));
        Assert.Equal(310, Value(second, "ovs_actors_conntrack_connections_moved_total", A, "in"));
    }

    [Fact]
    public void Show_names_each_node_s_shards_as_ranges_and_its_hand_offs_and_what_is_moving()
    {
        string text = PlacementText.Format(new ConntrackPlacementView(8, [Node(A, [0, 1, 2, 5], new HandoffStatistics(1, 10, 0, 0, 0, 0, 0, 0)), Node(B, [3, 4], null, self: true)], [6, 7], true));

        Assert.Contains(" conntrack: 8 shards on 2 nodes\n", text, StringComparison.Ordinal);
        Assert.Contains($"  {A}: 4 shards: 0-2,5\n", text, StringComparison.Ordinal);
        Assert.Contains("     hand-offs in=0 (0 connections, 0 bytes, 0 ms), out=1 (10 connections)\n", text, StringComparison.Ordinal);
        Assert.Contains($"  {B} (this node): 2 shards: 3-4\n     hand-offs: no answer in time\n", text, StringComparison.Ordinal);
        Assert.EndsWith("  moving or not started: 6-7\n", text, StringComparison.Ordinal);
        Assert.Equal(" conntrack: 2 shards on this node (standalone)\n", PlacementText.Format(new ConntrackPlacementView(2, [Node(A, [0, 1], null, self: true)], [], true)));
    }

    [Fact]
    public async Task Replicas_a_node_keeps_become_series_with_their_age_and_go_when_the_node_keeps_them_no_more()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var metrics = new DatapathMetrics(Prometheus.Metrics.WithCustomRegistry(registry));
        var onA = Replicas([new ReplicaState(1, B, 1, 5, true, 40, 9_000, 250), new ReplicaState(3, B, 1, 2, false, 7, 9_100, 1_500)], applied: 12, dropped: 1, promotions: 0);

        metrics.Publish(Snapshot(new ConntrackPlacementView(4, [Node(A, [0, 2], null, replicas: onA), Node(B, [1, 3], null, replicas: Replicas([], 0, 0, 0))], [], true)));
        var first = await ScrapeAsync(registry);
        Assert.Equal(40, first.Single(s => s.Name == "ovs_actors_conntrack_replica_connections" && s.Labels["node"] == A && s.Labels["shard"] == "1").Value);
        Assert.Equal(1.5, first.Single(s => s.Name == "ovs_actors_conntrack_replica_update_age_seconds" && s.Labels["node"] == A && s.Labels["shard"] == "3").Value);
        Assert.DoesNotContain(first, s => s.Name == "ovs_actors_conntrack_replica_connections" && s.Labels["node"] == B);
        Assert.Equal(12, Value(first, "ovs_actors_conntrack_replica_chunks_total", A, result: "applied"));
        Assert.Equal(1, Value(first, "ovs_actors_conntrack_replica_chunks_total", A, result: "dropped"));

        // B died: A promoted its replicas and keeps none; B's series and A's replica series go.
        metrics.Publish(Snapshot(new ConntrackPlacementView(4, [Node(A, [0, 1, 2, 3], null, replicas: Replicas([], applied: 12, dropped: 1, promotions: 2))], [], true)));
        var second = await ScrapeAsync(registry);
        Assert.DoesNotContain(second, s => s.Name is "ovs_actors_conntrack_replica_connections" or "ovs_actors_conntrack_replica_update_age_seconds");
        Assert.Equal(2, Value(second, "ovs_actors_conntrack_replica_promotions_total", A));
    }

    [Fact]
    public void Show_names_the_replicas_each_node_keeps_and_how_long_ago_they_were_fed()
    {
        var onA = Replicas([new ReplicaState(1, B, 1, 5, true, 40, 9_000, 250), new ReplicaState(3, B, 1, 2, false, 7, 9_100, 1_500)], applied: 12, dropped: 1, promotions: 0);

        string text = PlacementText.Format(new ConntrackPlacementView(4, [Node(A, [0, 2], null, replicas: onA), Node(B, [1, 3], null, self: true)], [], true));

        Assert.Contains($"  {A}: 2 shards: 0,2\n     hand-offs: no answer in time\n     replicas held=2 (shards 1,3), connections=47, seeding=1, last update 250-1500 ms ago\n", text, StringComparison.Ordinal);
        Assert.Contains("     replication chunks applied=12 (1200 bytes), dropped=1, resyncs=0, promotions=0 (0 connections), started empty=0 (0 connections lost)\n", text, StringComparison.Ordinal);
        Assert.Contains($"  {B} (this node): 2 shards: 1,3\n     hand-offs: no answer in time\n     replicas: no answer in time\n", text, StringComparison.Ordinal);
    }

    private static ReplicaStatistics Replicas(ReplicaState[] replicas, long applied, long dropped, int promotions) =>
        new(replicas, applied, applied * 100, applied * 10, dropped, 0, 1, promotions, promotions * 20, 0, 0, 0);

    private static ConntrackNodeView Node(string address, int[] shards, HandoffStatistics? handoffs, bool self = false, ReplicaStatistics? replicas = null) => new(address, self, shards, handoffs, replicas);

    private static MetricsSnapshot Snapshot(ConntrackPlacementView placement) => new(null, null, 0, []) { Placement = placement };

    private static double Value(List<Sample> samples, string name, string node, string? direction = null, string? result = null) =>
        samples.Single(s => s.Name == name && s.Labels["node"] == node && (direction is null || s.Labels["direction"] == direction) && (result is null || s.Labels["result"] == result)).Value;

    private static async Task<List<Sample>> ScrapeAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return PrometheusText.Parse(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
