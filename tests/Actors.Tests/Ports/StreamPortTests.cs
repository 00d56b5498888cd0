using Actors.Cluster;
using Actors.Node;
using Actors.Pmd;
using Actors.Ports;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Tables;
using Datapath.Tests.Support;
using TestSupport.Waiting;
using Traffic;

namespace Actors.Tests.Ports;

/// <summary>The bench's ports through the real datapath: PMD actors with the firewall and conntrack shard actors.</summary>
public sealed class StreamPortTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData(TrafficProtocol.Udp, 1)]
    [InlineData(TrafficProtocol.Tcp, 2)]
    public async Task A_warm_up_of_more_connections_than_any_pool_holds_forwards_every_frame_and_the_pools_are_full_again(TrafficProtocol protocol, int pmds)
    {
        // 2,000 connections' handshakes through pools of 64 receive and 32 transmit packets, then data.
        var settings = new StreamPortSettings { Protocol = protocol, Connections = 2000, QueuesPerPort = pmds, ReceivePoolSize = 64, TransmitPoolSize = 32, Window = Defaults.PortWindow };
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, pmds, Defaults.PmdSettings, Defaults.BridgeSettings);
        var port = await Start(node, settings, ActorReplayTests.Firewall());

        var established = await port.Actor.Ask<StreamsEstablished>(EstablishStreams.Instance, Patience);
        port.Actor.Tell(StartTraffic.Instance);
        var drained = await port.Actor.Ask<PortDrained>(DrainAndReport.Instance, Patience);
        var pmdStats = await PacketAccounting.PmdStatisticsAsync(node, Patience);
        await port.Actor.GracefulStop(Patience);
        await node.StopAsync();

        int handshake = settings.Connections * new EstablishedStreams(protocol, 1).HandshakeSteps;
        Assert.Equal(handshake, established.Statistics[1].RxPackets + established.Statistics[2].RxPackets);
        Assert.Equal(handshake, established.Statistics[1].TxPackets + established.Statistics[2].TxPackets);
        var stats = drained.Statistics;
        Assert.True(stats[1].RxPackets + stats[2].RxPackets >= handshake);
        Assert.Equal(0, stats[1].RxDropped + stats[2].RxDropped);
        PacketAccounting.AssertEveryPacketAccountedFor(stats.Ports, pmdStats, droppedByFlows: 0);
        PacketAccounting.AssertPoolsFull(port);

        // pmd-stats-show's avg. packets per output batch: every packet a port transmitted came in one of the PMDs' batches of at most 32.
        long outputs = pmdStats.Sum(p => p.Pipeline.OutputPackets), batches = pmdStats.Sum(p => p.Pipeline.OutputBatches);
        Assert.Equal(stats[1].TxPackets + stats[2].TxPackets, outputs);
        Assert.InRange(batches, (outputs + 31) / 32, outputs);
    }

    [Fact]
    public async Task Ports_split_by_pmd_feed_each_pmd_on_its_own_thread_and_every_packet_is_tracked_where_it_was_received()
    {
        // Two PMDs, each on its own thread with the conntrack shards of its queues, and a stream port
        // actor per PMD on that thread: no packet needs a conntrack message, and each PMD's output
        // comes back to its own part.
        var settings = new StreamPortSettings { Connections = 500, QueuesPerPort = 2, ReceivePoolSize = 64, TransmitPoolSize = 64, Window = Defaults.PortWindow };
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Standalone(), Defaults.ConntrackSettings with { Shards = 8 }, "split");
        var node = DatapathNode.Start(cluster, 2, Defaults.PmdSettings with { DedicatedThreads = true }, Defaults.BridgeSettings);
        await node.UseFlowsAsync(ActorReplayTests.Firewall(), Patience);
        var split = StreamPortActor.StartPerPmd(cluster.System, settings, node.Pmds, node.PmdDispatchers!, node.BatchesOf, "split-ports");
        await node.UsePortsAsync(split.Links, Patience);
        await AwaitHostedEverywhere(node);

        var established = await Task.WhenAll(split.Parts.Select(p => p.Actor.Ask<StreamsEstablished>(EstablishStreams.Instance, Patience)));
        foreach (var part in split.Parts)
        {
            part.Actor.Tell(StartTraffic.Instance);
        }

        var drained = await Task.WhenAll(split.Parts.Select(p => p.Actor.Ask<PortDrained>(DrainAndReport.Instance, Patience)));
        var pmdStats = await PacketAccounting.PmdStatisticsAsync(node, Patience);

        // Each PMD thread's batches came from its own pool and went back to it: the node's pool made none.
        Assert.Equal(0, node.Batches.Created);
        Assert.All(Enumerable.Range(0, 2), pmd => Assert.True(node.BatchesOf(pmd).Created > 0));
        await node.StopAsync();

        // Every connection's handshake went through exactly one part, and both parts had some.
        int handshake = settings.Connections * new EstablishedStreams(settings.Protocol, 1).HandshakeSteps;
        Assert.Equal(handshake, established.Sum(e => e.Statistics[1].TxPackets + e.Statistics[2].TxPackets));
        Assert.All(established, e => Assert.True(e.Statistics[1].RxPackets > 0, "a PMD's part had no connection"));
        Assert.All(pmdStats, p => Assert.True(p.Pipeline.PacketsReceived > 0 && p.ConntrackMessages == 0, $"PMD {p.Pmd}: {p.Pipeline.PacketsReceived} packets, {p.ConntrackMessages} conntrack messages"));
        for (int pmd = 0; pmd < 2; pmd++)
        {
            var ports = drained[pmd].Statistics.Ports;
            Assert.Equal(pmdStats[pmd].Pipeline.PacketsReceived, ports.Sum(p => p.RxPackets));
        }

        PacketAccounting.AssertEveryPacketAccountedFor(PortStatistics.SumByPort(drained.SelectMany(d => d.Statistics.Ports)), pmdStats, droppedByFlows: 0);
        Assert.All(split.Parts, PacketAccounting.AssertPoolsFull);
    }

    [Fact]
    public async Task A_warm_up_whose_replies_the_firewall_drops_fails_naming_the_step_and_the_ports()
    {
        // Without the established rule for port 2, the UDP replies (step 2) are dropped.
        string firewall = File.ReadAllText(TestData.Capture("firewall.flows"));
        var flows = new OpenFlowTables()
            .AddFlows(firewall.Replace("table=1, ct_state=+est+trk,ip,in_port=2 actions=output:1", string.Empty, StringComparison.Ordinal), "no-replies.flows")
            .Select(r => r.Entry)
            .ToList();
        Assert.Equal(6, flows.Count);
        var settings = new StreamPortSettings { Connections = 100, Window = Defaults.PortWindow };
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, 1, Defaults.PmdSettings, Defaults.BridgeSettings);
        var port = await Start(node, settings, flows);

        var failed = await port.Actor.Ask<PortFailed>(EstablishStreams.Instance, Patience);
        var drained = await port.Actor.Ask<PortDrained>(DrainAndReport.Instance, Patience);
        await port.Actor.GracefulStop(Patience);
        await node.StopAsync();

        Assert.Equal("warm-up step 2 of 2: 0 of 100 frames from port 2 were forwarded to port 1", failed.Reason);
        PacketAccounting.AssertPoolsFull(port);
        Assert.Equal(0, drained.Statistics[1].TxPackets);
    }

    private static Task AwaitHostedEverywhere(DatapathNode node) =>
        Eventually.Until(
            () => PacketAccounting.PmdStatisticsAsync(node, Patience),
            stats => stats.Sum(s => s.HostedShards) == node.Cluster.ConntrackSettings.Shards,
            "the shards hosted by the PMDs",
            Patience);

    private static async Task<PortHandle> Start(DatapathNode node, StreamPortSettings settings, IReadOnlyList<FlowEntry> flows)
    {
        var port = StreamPortActor.Start(node.Cluster.System, settings, node.Pmds, node.Batches);
        await node.UsePortsAsync(port.Links, Patience);
        await node.UseFlowsAsync(flows, Patience);
        return port;
    }
}
