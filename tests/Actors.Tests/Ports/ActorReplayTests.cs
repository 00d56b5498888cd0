using Actors.Cluster;
using Actors.Node;
using Actors.Pmd;
using Actors.Ports;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.Bypass;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Tables;
using Datapath.Packets.Pcap;
using Datapath.Replay;
using Datapath.Tests.Support;
using Host.Configuration;

namespace Actors.Tests.Ports;

/// <summary>
/// The differential contract through the actors: every capture replayed on PMD actors (1 or 2),
/// with conntrack on the shard actors (local, or sharded over a cluster), gives Open vSwitch's
/// verdicts frame for frame. Each replay gets its own node, so no conntrack state leaks between captures.
/// </summary>
public sealed class ActorReplayTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>
    /// On a standalone node (the embedded default: local shard actors) with the recirculation bypass
    /// off, in megaflow mode (the default) and per connection; on a single-node cluster (sharding,
    /// as several nodes run it) in megaflow mode.
    /// </summary>
    public static TheoryData<string, int, string, bool> CapturesPmdsAndBypass()
    {
        var data = new TheoryData<string, int, string, bool>();
        foreach (var pcap in TestData.AllCapturePcaps())
        {
            string capture = Path.GetFileNameWithoutExtension(pcap);
            foreach (string bypass in new[] { "off", "megaflow", "per-connection" })
            {
                data.Add(capture, 1, bypass, false);
                data.Add(capture, 2, bypass, false);
            }

            data.Add(capture, 2, "megaflow", true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CapturesPmdsAndBypass))]
    public async Task Replaying_through_the_actors_gives_Open_vSwitch_verdicts(string capture, int pmds, string bypass, bool clustered)
    {
        var expected = File.ReadAllLines(TestData.Capture(Path.Combine("expected", capture + ".verdict")));
        var settings = Defaults.PmdSettings with { Core = Defaults.PmdCoreOptions with { Bypass = BypassModes.TryParse(bypass, out var mode) ? mode : throw new ArgumentException(bypass, nameof(bypass)) } };

        var verdicts = await Replay(TestData.Capture(capture + ".pcap"), pmds, settings: settings, clustered: clustered);

        Assert.Equal(expected, verdicts);
    }

    public static TheoryData<string, int> CapturesAndPmds()
    {
        var data = new TheoryData<string, int>();
        foreach (var pcap in TestData.AllCapturePcaps())
        {
            data.Add(Path.GetFileNameWithoutExtension(pcap), 1);
            data.Add(Path.GetFileNameWithoutExtension(pcap), 2);
        }

        return data;
    }

    /// <summary>
    /// received = sent + dropped by a named reason, through the actors, on every capture: the ports'
    /// counters, the PMDs' "drop action" (each frame the reference drops) and the node's ledger.
    /// </summary>
    [Theory]
    [MemberData(nameof(CapturesAndPmds))]
    public async Task Every_frame_of_a_capture_is_sent_or_counted_as_a_drop_by_its_reason(string capture, int pmds)
    {
        var expected = File.ReadAllLines(TestData.Capture(Path.Combine("expected", capture + ".verdict")));
        var frames = Frames(TestData.Capture(capture + ".pcap"));
        var config = TestConfigs.Standalone();
        await using var cluster = await DatapathCluster.StartAsync(config, DatapathSettings.From(config, "test").Conntrack, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, pmds, Defaults.PmdSettings, Defaults.BridgeSettings);
        await node.UseFlowsAsync(Firewall(), Patience);
        var port = ReplayPortActor.Start(cluster.System, frames, node.Pmds, node.Batches);
        await node.UsePortsAsync(port.Links, Patience);

        var finished = await port.Actor.Ask<ReplayFinished>(StartReplay.Instance, Patience);
        var drained = await port.Actor.Ask<PortDrained>(DrainAndReport.Instance, Patience);
        var pmdStats = await PacketAccounting.PmdStatisticsAsync(node, Patience);
        await node.StopAsync();

        Assert.Equal(expected, finished.Verdicts);
        PacketAccounting.AssertEveryPacketAccountedFor(drained.Statistics.Ports, pmdStats, droppedByFlows: expected.Count(v => v.EndsWith("drop", StringComparison.Ordinal)));
    }

    /// <param name="clustered">On a single-node cluster (conntrack through sharding) rather than a standalone node.</param>
    internal static async Task<IReadOnlyList<string>> Replay(string pcap, int pmds, string extraConfig = "", PmdSettings? settings = null, bool clustered = false)
    {
        var config = clustered ? TestConfigs.Cluster(extraConfig) : TestConfigs.Standalone(extraConfig);
        await using var cluster = await DatapathCluster.StartAsync(config, DatapathSettings.From(config, "test").Conntrack, upTimeout: Patience);
        Assert.Equal(clustered, cluster.IsClustered);
        var node = DatapathNode.Start(cluster, pmds, settings ?? Defaults.PmdSettings, Defaults.BridgeSettings);
        var verdicts = await ActorReplay.RunAsync(node, Firewall(), Frames(pcap), Patience);
        await node.StopAsync();
        return verdicts;
    }

    internal static IReadOnlyList<FlowEntry> Firewall()
    {
        var tables = new OpenFlowTables();
        return tables.AddFlows(File.ReadAllText(TestData.Capture("firewall.flows")), "firewall.flows").Select(r => r.Entry).ToList();
    }

    internal static IReadOnlyList<ReplayFrame> Frames(string pcap)
    {
        using var reader = PcapReader.Open(pcap);
        var frames = new List<ReplayFrame>();
        while (reader.TryReadNext(out var header))
        {
            frames.Add(new ReplayFrame(header.RecordNumber, ReplayPorts.BySourceMac(reader.CurrentFrame), reader.CurrentFrame.ToArray(), header.TimestampNs / 1_000_000));
        }

        return frames;
    }
}
