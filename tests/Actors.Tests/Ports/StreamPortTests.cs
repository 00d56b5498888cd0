using Actors.Cluster;
using Actors.Node;
using Actors.Pmd;
using Actors.Ports;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Tables;
using Datapath.Tests.Support;
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

    private static async Task<PortHandle> Start(DatapathNode node, StreamPortSettings settings, IReadOnlyList<FlowEntry> flows)
    {
        var port = StreamPortActor.Start(node.Cluster.System, settings, node.Pmds, node.Batches);
        await node.UsePortsAsync(port.Links, Patience);
        await node.UseFlowsAsync(flows, Patience);
        return port;
    }
}
