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

        var (stats, pmdStats) = await Run(pmds, settings, until: null);

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
        var profile = Defaults.TrafficProfile with
        {
            Connections = 16,
            ServerInitiatedPercent = 50,
            ConnectionTimeout = TimeSpan.FromMilliseconds(500),
        };
        var settings = Defaults.GeneratorPortSettings with { Profile = profile, QueuesPerPort = pmds };

        var (stats, _) = await Run(pmds, settings, until: s => s.Traffic!.TimedOut >= 4 && s.Traffic.Completed > 0);

        var traffic = stats.Traffic!;
        Assert.True(traffic.TimedOut >= 4);
        Assert.True(traffic.Completed > 0);

        // Port 1's frames all cross; port 2's openings do not, so port 1 gets less than port 2 sent.
        Assert.Equal(stats[1].RxPackets, stats[2].TxPackets);
        Assert.True(stats[1].TxPackets < stats[2].RxPackets);
        Assert.True(traffic.RepliesSent <= stats[1].TxPackets + stats[2].TxPackets);
    }

    /// <summary>Runs the generator on a fresh node until it drains (a frame limit) or <paramref name="until"/> holds, then drains it.</summary>
    private static async Task<(PortActorStatistics Port, IReadOnlyList<PmdStatistics> Pmds)> Run(
        int pmdCount,
        GeneratorPortSettings settings,
        Func<PortActorStatistics, bool>? until)
    {
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, pmdCount, Defaults.PmdSettings, Defaults.BridgeSettings);
        var port = GeneratorPortActor.Start(cluster.System, settings, node.Pmds, node.Batches);
        await node.UsePortsAsync(port.Links, Patience);
        await node.UseFlowsAsync(ActorReplayTests.Firewall(), Patience);
        port.Actor.Tell(StartTraffic.Instance);

        if (until is not null)
        {
            var deadline = DateTime.UtcNow + Patience;
            while (!until(await port.Actor.Ask<PortActorStatistics>(GetPortStatistics.Instance, Patience)))
            {
                Assert.True(DateTime.UtcNow < deadline, "the condition never held");
                await Task.Delay(50);
            }
        }

        var drained = await port.Actor.Ask<PortDrained>(DrainAndReport.Instance, Patience);
        var pmdStats = new List<PmdStatistics>();
        foreach (var pmd in node.Pmds)
        {
            pmdStats.Add(await pmd.Ask<PmdStatistics>(GetPmdStatistics.Instance, Patience));
        }

        await port.Actor.GracefulStop(Patience);
        await node.StopAsync();
        return (drained.Statistics, pmdStats);
    }
}
