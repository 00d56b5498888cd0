using System.Globalization;
using Actors.Cluster;
using Actors.Node;
using Actors.Pmd;
using Actors.Ports;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.OpenFlow.Normal;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets;
using Datapath.Conntrack;
using Datapath.Pipeline;
using Datapath.Tests.Support;

namespace Actors.Tests.Ports;

/// <summary>The replay port with more traffic than any of its pools holds, against the single-threaded replay.</summary>
public sealed class ReplayPortTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task An_actor_replay_of_more_forwarded_frames_than_any_pool_holds_gives_the_inline_replays_verdicts(int pmds)
    {
        // 10,000 frames of established UDP: every one is forwarded, by the PMD's last output, which
        // hands the received packet itself to the port (no copy); it must go back to the receive pool.
        var frames = GeneratedCapture.EstablishedUdp(connections: 100, frames: 10_000);

        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, pmds, Defaults.PmdSettings, Defaults.BridgeSettings);
        var verdicts = await ActorReplay.RunAsync(node, ActorReplayTests.Firewall(), frames, Patience);
        await node.StopAsync();

        Assert.Equal(InlineVerdicts(frames), verdicts);
        Assert.DoesNotContain(verdicts, v => v.EndsWith("drop", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Every_replayed_packet_is_transmitted_or_counted_as_dropped_and_the_pools_are_full_again(int pmds)
    {
        // Pools of 64 receive and 32 transmit packets for 6,000 frames, a tenth of their connections
        // opened from outside (dropped by the firewall).
        var frames = GeneratedCapture.EstablishedUdp(connections: 100, frames: 6_000, strangers: 10);
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, pmds, Defaults.PmdSettings, Defaults.BridgeSettings);
        await node.UseFlowsAsync(ActorReplayTests.Firewall(), Patience);
        var port = ReplayPortActor.Start(cluster.System, frames, node.Pmds, node.Batches, receivePoolSize: 64, transmitPoolSize: 32);
        await node.UsePortsAsync(port.Links, Patience);

        var finished = await port.Actor.Ask<ReplayFinished>(StartReplay.Instance, Patience);
        var drained = await port.Actor.Ask<PortDrained>(DrainAndReport.Instance, Patience);
        var pmdStats = await PacketAccounting.PmdStatisticsAsync(node, Patience);
        await node.StopAsync();

        Assert.Equal(InlineVerdicts(frames), finished.Verdicts);
        long dropped = finished.Verdicts.Count(v => v.EndsWith("drop", StringComparison.Ordinal));
        Assert.True(dropped > 0, "the strangers' frames were not dropped");
        PacketAccounting.AssertEveryPacketAccountedFor(drained.Statistics.Ports, pmdStats, droppedByFlows: dropped);
        Assert.Equal(frames.Count, drained.Statistics[1].RxPackets + drained.Statistics[2].RxPackets);
        Assert.Equal(0, drained.Statistics[1].RxDropped + drained.Statistics[2].RxDropped);
        PacketAccounting.AssertPoolsFull(port);
    }

    /// <summary>The verdicts of the single-threaded datapath (the `replay --inline` reference) on the firewall.</summary>
    internal static List<string> InlineVerdicts(IReadOnlyList<ReplayFrame> frames)
    {
        var tables = new OpenFlowTables();
        tables.AddFlows(File.ReadAllText(TestData.Capture("firewall.flows")), "firewall.flows");
        var datapath = new InlineDatapath(new Translator(tables, new RecircRegistry(), [1, 2], new MacLearningTable()), Defaults.PmdCoreOptions, new ConnectionTable(Defaults.ConntrackOptions));
        var sink = new PortsSink();
        var batch = new PacketBatch();
        var verdicts = new List<string>(frames.Count);
        foreach (var frame in frames)
        {
            sink.Ports.Clear();
            Assert.True(datapath.TryReceive(frame.Bytes, frame.Port, out var packet));
            batch.Add(packet);
            datapath.Process(batch, frame.TimeMs, sink);
            verdicts.Add(string.Create(CultureInfo.InvariantCulture, $"{frame.Number} {frame.Port} -> {(sink.Ports.Count == 0 ? "drop" : string.Join(',', sink.Ports))}"));
        }

        return verdicts;
    }

    private sealed class PortsSink : IPacketSink
    {
        public List<uint> Ports { get; } = [];

        public void Transmit(uint port, Packet packet) => Ports.Add(port);
    }
}
