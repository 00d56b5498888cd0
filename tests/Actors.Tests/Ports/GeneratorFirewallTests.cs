using Actors.Bridge;
using Actors.Cluster;
using Actors.Node;
using Actors.Pmd;
using Actors.Ports;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.Tests.Support;
using Traffic;

namespace Actors.Tests.Ports;

/// <summary>
/// The generator port through the real datapath: PMD actors with the firewall of DESIGN.md and
/// conntrack on the shard actors of a single-node cluster, one queue per PMD on each port.
/// </summary>
public sealed class GeneratorFirewallTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Generated_connections_through_the_firewall_become_established_and_every_frame_crosses(int pmds)
    {
        var profile = Defaults.TrafficProfile with { Connections = 24, ConnectionTimeout = TimeSpan.FromSeconds(30) };
        var settings = Defaults.GeneratorPortSettings with { Profile = profile, QueuesPerPort = pmds, MaxFrames = 4000 };

        var (stats, pmdStats, _) = await Run(pmds, settings);

        var traffic = stats.Traffic!;
        Assert.True(traffic.Completed > 0, "no connection completed");
        Assert.True(traffic.Tcp.Completed > 0 && traffic.Udp.Completed > 0, "TCP or UDP connections did not complete");
        Assert.Equal(0, traffic.TimedOut);
        Assert.Equal(0, traffic.Ignored);
        Assert.True(stats[1].RxPackets + stats[2].RxPackets >= settings.MaxFrames);

        // The firewall forwards every frame of connections opened from port 1, unchanged.
        Assert.Equal(stats[1].RxPackets, stats[2].TxPackets);
        Assert.Equal(stats[1].RxBytes, stats[2].TxBytes);
        Assert.Equal(stats[2].RxPackets, stats[1].TxPackets);
        Assert.Equal(stats[2].RxBytes, stats[1].TxBytes);
        Assert.Equal(0, stats[1].RxDropped + stats[2].RxDropped);

        // Hosts answer only what the datapath delivered.
        Assert.True(traffic.RepliesSent <= stats[1].TxPackets + stats[2].TxPackets);
        Assert.True(traffic.RepliesSent > 0);
        Assert.All(pmdStats, p => Assert.Equal(0, p.TransmitDropsPoolEmpty + p.TransmitDropsNoPort));
        Assert.Equal(pmds, pmdStats.Count(p => p.Pipeline.PacketsReceived > 0));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Connections_opened_from_port_2_are_dropped_by_the_firewall_and_time_out_in_the_generator(int pmds)
    {
        // Paced at 1,000 frames per second and port up to 3,000 frames: a second and a half, three
        // times the connection timeout, so the connections opened from port 2 time out again and again.
        var profile = Defaults.TrafficProfile with
        {
            Connections = 16,
            ServerInitiatedPercent = 50,
            ConnectionTimeout = TimeSpan.FromMilliseconds(500),
            RatePps = 1000,
        };
        var settings = Defaults.GeneratorPortSettings with { Profile = profile, QueuesPerPort = pmds, MaxFrames = 3000 };

        var (stats, _, _) = await Run(pmds, settings);

        var traffic = stats.Traffic!;
        Assert.True(traffic.TimedOut >= 4, $"{traffic.TimedOut} connections timed out");
        Assert.True(traffic.Completed > 0);

        // Port 1's frames all cross; port 2's openings do not, so port 1 gets less than port 2 sent.
        Assert.Equal(stats[1].RxPackets, stats[2].TxPackets);
        Assert.True(stats[1].TxPackets < stats[2].RxPackets);
        Assert.True(traffic.RepliesSent <= stats[1].TxPackets + stats[2].TxPackets);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task More_frames_than_any_pool_holds_are_each_transmitted_or_counted_as_dropped_and_the_pools_are_full_again(int pmds)
    {
        // 64 receive and 32 transmit packets per port for 6,000 frames of connections opened from
        // port 1, which the firewall forwards both ways.
        var profile = Defaults.TrafficProfile with { Connections = 64, ConnectionTimeout = TimeSpan.FromSeconds(30) };
        var settings = Defaults.GeneratorPortSettings with { Profile = profile, QueuesPerPort = pmds, MaxFrames = 6000, ReceivePoolSize = 64, TransmitPoolSize = 32 };

        var (stats, pmdStats, port) = await Run(pmds, settings);

        Assert.True(stats[1].RxPackets + stats[2].RxPackets >= settings.MaxFrames);
        Assert.Equal(0, stats[1].RxDropped + stats[2].RxDropped);
        PacketAccounting.AssertEveryPacketAccountedFor(stats.Ports, pmdStats, droppedByFlows: 0);
        PacketAccounting.AssertPoolsFull(port);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Split_by_PMD_each_generator_feeds_only_its_own_PMD_and_the_parts_together_keep_the_profile(bool dedicatedThreads)
    {
        // 40 connections over two PMDs (one queue each per port), a frame limit of 6,001 to share.
        var profile = Defaults.TrafficProfile with { Connections = 40, ConnectionTimeout = TimeSpan.FromSeconds(30) };
        var settings = Defaults.GeneratorPortSettings with { Profile = profile, QueuesPerPort = 2, MaxFrames = 6001 };
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, 2, Defaults.PmdSettings with { DedicatedThreads = dedicatedThreads }, Defaults.BridgeSettings);
        var split = GeneratorPortActor.StartPerPmd(cluster.System, settings, node.Pmds, node.PmdDispatchers, node.BatchesOf, "split-generator");
        await node.UsePortsAsync(split.Links, Patience);
        await node.UseFlowsAsync(ActorReplayTests.Firewall(), Patience);
        foreach (var part in split.Parts)
        {
            part.Actor.Tell(StartTraffic.Instance);
        }

        var drained = await Task.WhenAll(split.Parts.Select(p => p.Actor.Ask<PortDrained>(DrainAndReport.Instance, Patience)));
        var pmdStats = await PacketAccounting.PmdStatisticsAsync(node, Patience);
        var shown = await node.Bridge.Ask<PortsShown>(ShowPorts.Instance, Patience);

        // Every connection is one part's: each part's frames reached its own PMD only, and every answer
        // came back to the part that opened the connection (none ignored, none timed out).
        for (int pmd = 0; pmd < 2; pmd++)
        {
            var part = drained[pmd].Statistics;
            Assert.True(part.Traffic!.Opened > 0, $"part {pmd} opened no connection");
            Assert.Equal(part[1].RxPackets + part[2].RxPackets, pmdStats.Single(p => p.Pmd == pmd).Pipeline.PacketsReceived);
            Assert.Equal(0, part.Traffic.Ignored);
            Assert.Equal(0, part.Traffic.TimedOut);
            PacketAccounting.AssertPoolsFull(split.Parts[pmd]);
        }

        // The parts' connections are the profile's, and the frame limit was shared, not multiplied.
        var generated = drained.Sum(d => d.Statistics.Traffic!.Opened - d.Statistics.Traffic.Completed);
        Assert.Equal(profile.Connections, generated);
        long received = drained.Sum(d => d.Statistics[1].RxPackets + d.Statistics[2].RxPackets);
        Assert.InRange(received, settings.MaxFrames, settings.MaxFrames + (2 * 2 * 32));

        // ovs-ofctl show adds the parts up: each port's counters are the sum over its actors.
        var summed = PortStatistics.SumByPort(drained.SelectMany(d => d.Statistics.Ports));
        foreach (var port in shown.Ports)
        {
            Assert.Equal(summed.Single(s => s.Port == port.Number), port.Counters);
        }

        PacketAccounting.AssertEveryPacketAccountedFor(summed, pmdStats, droppedByFlows: 0);
        await Task.WhenAll(split.Parts.Select(p => p.Actor.GracefulStop(Patience)));
        await node.StopAsync();
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(3, 2)]
    public async Task Split_by_PMD_with_fewer_connections_or_frames_than_parts_every_part_still_drains(int connections, long maxFrames)
    {
        // One connection leaves a part without any; a limit of 2 over three connections rounds a share to 0.
        var profile = Defaults.TrafficProfile with { Connections = connections, ConnectionTimeout = TimeSpan.FromSeconds(30) };
        var settings = Defaults.GeneratorPortSettings with { Profile = profile, QueuesPerPort = 2, MaxFrames = maxFrames };
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, 2, Defaults.PmdSettings, Defaults.BridgeSettings);
        var split = GeneratorPortActor.StartPerPmd(cluster.System, settings, node.Pmds, null, node.BatchesOf, "small-split");
        await node.UsePortsAsync(split.Links, Patience);
        await node.UseFlowsAsync(ActorReplayTests.Firewall(), Patience);
        foreach (var part in split.Parts)
        {
            part.Actor.Tell(StartTraffic.Instance);
        }

        var drained = await Task.WhenAll(split.Parts.Select(p => p.Actor.Ask<PortDrained>(DrainAndReport.Instance, Patience)));

        long received = drained.Sum(d => d.Statistics[1].RxPackets + d.Statistics[2].RxPackets);
        Assert.InRange(received, maxFrames, maxFrames + (2 * 2 * 32));
        Assert.Equal(connections, drained.Sum(d => d.Statistics.Traffic!.Opened - d.Statistics.Traffic.Completed - d.Statistics.Traffic.TimedOut));
        await Task.WhenAll(split.Parts.Select(p => p.Actor.GracefulStop(Patience)));
        await node.StopAsync();
    }

    /// <summary>Runs the generator on a fresh node to its frame limit and drains it.</summary>
    private static async Task<(PortActorStatistics Port, IReadOnlyList<PmdStatistics> Pmds, PortHandle Handle)> Run(int pmdCount, GeneratorPortSettings settings)
    {
        Assert.True(settings.MaxFrames > 0, "the traffic must be finite: the drain waits for its end");
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, pmdCount, Defaults.PmdSettings, Defaults.BridgeSettings);
        var port = GeneratorPortActor.Start(cluster.System, settings, node.Pmds, node.Batches);
        await node.UsePortsAsync(port.Links, Patience);
        await node.UseFlowsAsync(ActorReplayTests.Firewall(), Patience);
        port.Actor.Tell(StartTraffic.Instance);

        var drained = await port.Actor.Ask<PortDrained>(DrainAndReport.Instance, Patience);
        var pmdStats = await PacketAccounting.PmdStatisticsAsync(node, Patience);

        await port.Actor.GracefulStop(Patience);
        await node.StopAsync();
        return (drained.Statistics, pmdStats, port);
    }
}
