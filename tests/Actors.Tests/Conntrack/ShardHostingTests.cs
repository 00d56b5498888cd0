using Actors.Cluster;
using Actors.Conntrack;
using Actors.Node;
using Actors.PacketPath;
using Actors.Pmd;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Tests.Support;
using Ports = Actors.Tests.Ports;

namespace Actors.Tests.Conntrack;

/// <summary>
/// Conntrack shards hosted by the PMDs that see their packets (DESIGN.md, "Where a shard lives"): a
/// PMD tracks its own connections in place, with no message; packets that reach a PMD not hosting
/// their shard still get their answer, by message, from the PMD that does; a PMD that restarts gives
/// its shards back and hosts them again, their connections intact.
/// </summary>
public sealed class ShardHostingTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task One_pmd_hosts_every_shard_and_replays_a_capture_with_no_conntrack_message(bool clustered)
    {
        await using var cluster = await StartCluster(shards: 4, clustered);
        var node = DatapathNode.Start(cluster, 1, Defaults.PmdSettings, Defaults.BridgeSettings);
        await AwaitHosted(node, 4);

        var expected = File.ReadAllLines(TestData.Capture(Path.Combine("expected", "many-conns.verdict")));
        var verdicts = await ActorReplay.RunAsync(node, Ports.ActorReplayTests.Firewall(), Ports.ActorReplayTests.Frames(TestData.Capture("many-conns.pcap")), Patience);

        Assert.Equal(expected, verdicts);
        var pmd = (await Statistics(node))[0];
        Assert.Equal(0, pmd.ConntrackMessages);
        Assert.True(pmd.ConntrackInPlace > 2000, $"{pmd.ConntrackInPlace} inputs tracked in place");
        await node.StopAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Packets_at_a_pmd_that_does_not_host_their_shard_are_tracked_by_the_one_that_does(bool clustered)
    {
        await using var cluster = await StartCluster(shards: 2, clustered);
        var node = DatapathNode.Start(cluster, 2, Defaults.PmdSettings, Defaults.BridgeSettings);
        await AwaitHosted(node, 1, 1);
        var port2 = CreateTestProbe(cluster.System);
        var pool = new ConcurrentPacketPool(1024);
        await node.UsePortsAsync([new PortLink(1, CreateTestProbe(cluster.System), pool), new PortLink(2, port2, pool)], Patience);
        await node.UseFlowsAsync(Ports.ActorReplayTests.Firewall(), Patience);

        // Opening datagrams of connections of both shards, all given to PMD 0: the firewall commits
        // and forwards each of them, whichever PMD hosts its connection.
        var frames = Ports.ActorReplayTests.Frames(TestData.Capture("many-conns.pcap"))
            .Where(f => f.Port == 1 && f.Bytes.Length > 42)
            .DistinctBy(f => ShardOf(f.Bytes, 2))
            .ToList();
        Assert.Equal(2, frames.Count);
        var rx = new ConcurrentPacketPool(64);
        var batch = new PathBatch();
        foreach (var frame in frames)
        {
            rx.TryRent(out var packet);
            packet.SetFrame(frame.Bytes, 1);
            batch.Add(packet);
        }

        node.Pmds[0].Tell(batch.Received(frames[0].TimeMs), ActorRefs.NoSender);
        var sent = new List<string>();
        while (sent.Count < frames.Count)
        {
            var tx = await port2.ExpectMsgAsync<PathBatch>(Patience);
            sent.AddRange(tx.Packets.ToArray().Select(p => Convert.ToHexString(p.Data)));
        }

        Assert.Equal(frames.Select(f => Convert.ToHexString(f.Bytes)).Order(), sent.Order());
        // Each datagram meets two ct actions (ct(table=1), then ct(commit)): the one of PMD 0's shard
        // twice in place, the other twice by message to PMD 1.
        var stats = await Statistics(node);
        Assert.Equal(2, stats[0].ConntrackMessages);
        Assert.Equal(2, stats[0].ConntrackInPlace);
        Assert.Equal(0, stats[1].ConntrackInPlace);

        // Each shard holds its connection, wherever it is hosted.
        for (int shard = 0; shard < 2; shard++)
        {
            var shardStats = await cluster.Conntrack.Ask<ShardStatistics>(new ConntrackEnvelope(shard, GetShardStatistics.Instance), Patience);
            Assert.Equal(1, shardStats.Connections);
        }

        await node.StopAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_pmd_that_restarts_gives_its_shards_back_and_hosts_them_again_with_their_connections(bool clustered)
    {
        await using var cluster = await StartCluster(shards: 2, clustered);
        var node = DatapathNode.Start(cluster, 1, Defaults.PmdSettings, Defaults.BridgeSettings);
        await AwaitHosted(node, 2);
        var tracked = await cluster.Conntrack.Ask<ConnectionsTracked>(Commit(), Patience);
        Assert.Equal(CtState.New | CtState.Tracked, tracked.Results[0].State);
        var events = CreateTestProbe(cluster.System);
        cluster.System.EventStream.Subscribe(events.Ref, typeof(PmdRestarted));

        node.Pmds[0].Tell(RestartPmd.Instance);
        await events.ExpectMsgAsync<PmdRestarted>(Patience);
        await AwaitHosted(node, 2);

        int connections = 0;
        for (int shard = 0; shard < 2; shard++)
        {
            connections += (await cluster.Conntrack.Ask<ShardStatistics>(new ConntrackEnvelope(shard, GetShardStatistics.Instance), Patience)).Connections;
        }

        Assert.Equal(1, connections);
        await node.StopAsync();
    }

    /// <summary>A single-node cluster (sharding entities), or a standalone node (local shard actors, the default): both lend their shards.</summary>
    private static async Task<DatapathCluster> StartCluster(int shards, bool clustered) =>
        await DatapathCluster.StartAsync(clustered ? TestConfigs.Cluster() : TestConfigs.Standalone(), Defaults.ConntrackSettings with { Shards = shards }, upTimeout: Patience);

    private async Task AwaitHosted(DatapathNode node, params int[] hosted) =>
        await AwaitAssertAsync(
            async () => Assert.Equal(hosted, (await Statistics(node)).Select(s => s.HostedShards)),
            Patience,
            TimeSpan.FromMilliseconds(50));

    private static async Task<IReadOnlyList<PmdStatistics>> Statistics(DatapathNode node)
    {
        var all = new List<PmdStatistics>();
        foreach (var pmd in node.Pmds)
        {
            all.Add(await pmd.Ask<PmdStatistics>(GetPmdStatistics.Instance, Patience));
        }

        return all;
    }

    private static int ShardOf(byte[] frame, int shards)
    {
        var packet = new Packet();
        packet.SetFrame(frame, 1);
        var key = default(FlowKey);
        FlowExtractor.Extract(packet, ref key, new ExtractionStats());
        return ConntrackShards.ShardOf(ConnectionHash.PlacementHash(in key), shards);
    }

    /// <summary>A committed UDP connection, through the region, to whichever shard owns it.</summary>
    private static TrackConnections Commit()
    {
        var frame = TestSupport.Frames.Frame.Ip("10.0.0.1", "10.0.0.2").Udp(4000, 53).Build();
        var packet = new Packet();
        packet.SetFrame(frame, 1);
        var key = default(FlowKey);
        FlowExtractor.Extract(packet, ref key, new ExtractionStats());
        ConntrackInput.TryParse(packet, in key, 0, out var input);
        int shard = ConntrackShards.ShardOf(input.ShardHash, 2);
        return new TrackConnections(shard, 1, 0, new Datapath.Actions.ConntrackArgs { Commit = true }, [input]);
    }
}
