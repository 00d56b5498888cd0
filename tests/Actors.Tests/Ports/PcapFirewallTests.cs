using System.Globalization;
using Actors.Cluster;
using Actors.Node;
using Actors.Pmd;
using Actors.Ports;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.Packets.Pcap;
using Datapath.Tests.Support;

namespace Actors.Tests.Ports;

/// <summary>The pcap port through the real datapath: PMD actors with the firewall and conntrack shard actors.</summary>
public sealed class PcapFirewallTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string _dir = Directory.CreateTempSubdirectory("pcap-firewall-").FullName;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Replaying_udp_stream_through_the_firewall_writes_the_frames_Open_vSwitch_forwarded_to_each_port(int pmds)
    {
        var verdicts = File.ReadAllLines(TestData.Capture(Path.Combine("expected", "udp-stream.verdict")));
        var capture = Frames(TestData.Capture("udp-stream.pcap"));
        var settings = Settings(PcapOrdering.Causal, pmds);

        var stats = await Run(settings, pmds);

        var tx1 = Frames(settings.TxPaths[1]);
        var tx2 = Frames(settings.TxPaths[2]);
        Assert.Equal(verdicts.Count(v => v.EndsWith("-> 2", StringComparison.Ordinal)), tx2.Count);
        Assert.Equal(verdicts.Count(v => v.EndsWith("-> 1", StringComparison.Ordinal)), tx1.Count);

        // The very frames: the firewall changes nothing it forwards. (Frames of one batch that take
        // different paths, a flooded ARP and a ct round trip, may leave in another order.)
        Assert.Equal(Sorted(ForwardedTo(2, verdicts, capture)), Sorted(tx2));
        Assert.Equal(Sorted(ForwardedTo(1, verdicts, capture)), Sorted(tx1));

        // Within one connection, the capture's order.
        Assert.Equal(ByConnection(ForwardedTo(2, verdicts, capture)), ByConnection(tx2));
        Assert.Equal(ByConnection(ForwardedTo(1, verdicts, capture)), ByConnection(tx1));
        Assert.Equal(capture.Count, stats[1].RxPackets + stats[2].RxPackets);
        Assert.Equal(tx2.Count, stats[2].TxPackets);
        Assert.Equal(capture.Count, stats.Pcap!.FramesRead);
        Assert.True(stats.Pcap.InputDone);
    }

    [Fact]
    public async Task A_pipelined_replay_on_two_PMDs_receives_every_frame_and_never_drops_at_the_receive_side()
    {
        var verdicts = File.ReadAllLines(TestData.Capture(Path.Combine("expected", "udp-stream.verdict")));
        var settings = Settings(PcapOrdering.Pipelined, 2) with { Window = 1, ReceivePoolSize = 64 };

        var stats = await Run(settings, 2);

        Assert.Equal(verdicts.Length, stats[1].RxPackets + stats[2].RxPackets);
        Assert.Equal(0, stats[1].RxDropped + stats[2].RxDropped);
        Assert.InRange(Frames(settings.TxPaths[2]).Count, 1, verdicts.Count(v => v.EndsWith("-> 2", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_capture_larger_than_any_pool_is_transmitted_frame_for_frame_and_the_pools_are_full_again(int pmds)
    {
        // udp-stream's 4,002 frames through pools of 32 packets (the smallest allowed).
        var verdicts = File.ReadAllLines(TestData.Capture(Path.Combine("expected", "udp-stream.verdict")));
        var settings = Settings(PcapOrdering.Causal, pmds) with { ReceivePoolSize = 32, TransmitPoolSize = 32 };

        var (stats, pmdStats, port) = await RunWithPmds(settings, pmds);

        Assert.Equal(verdicts.Length, stats[1].RxPackets + stats[2].RxPackets);
        Assert.Equal(0, stats[1].RxDropped + stats[2].RxDropped);
        Assert.Equal(verdicts.Count(v => v.EndsWith("-> 2", StringComparison.Ordinal)), stats[2].TxPackets);
        Assert.Equal(verdicts.Count(v => v.EndsWith("-> 1", StringComparison.Ordinal)), stats[1].TxPackets);
        PacketAccounting.AssertEveryPacketAccountedFor(stats.Ports, pmdStats, droppedByFlows: verdicts.Count(v => v.EndsWith("drop", StringComparison.Ordinal)));
        PacketAccounting.AssertPoolsFull(port);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<byte[]> ForwardedTo(uint port, string[] verdicts, List<byte[]> capture) =>
        verdicts.Where(v => v.EndsWith("-> " + port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal))
            .Select(v => capture[int.Parse(v.Split(' ')[0], CultureInfo.InvariantCulture) - 1])
            .ToList();

    private static List<string> Sorted(List<byte[]> frames) =>
        frames.Select(Convert.ToHexString).Order(StringComparer.Ordinal).ToList();

    /// <summary>The IPv4 frames grouped by addresses, protocol and ports (untagged frames), each group in order.</summary>
    private static SortedDictionary<string, List<string>> ByConnection(List<byte[]> frames)
    {
        var groups = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var frame in frames.Where(f => f.Length >= 38 && f[12] == 0x08 && f[13] == 0x00))
        {
            string key = Convert.ToHexString(frame, 23, 1) + Convert.ToHexString(frame, 26, 12);
            if (!groups.TryGetValue(key, out var list))
            {
                groups[key] = list = [];
            }

            list.Add(Convert.ToHexString(frame));
        }

        return groups;
    }

    private static List<byte[]> Frames(string pcap)
    {
        using var reader = PcapReader.Open(pcap);
        var frames = new List<byte[]>();
        while (reader.TryReadNext(out _))
        {
            frames.Add(reader.CurrentFrame.ToArray());
        }

        return frames;
    }

    private static async Task<PortActorStatistics> Run(PcapPortSettings settings, int pmdCount) =>
        (await RunWithPmds(settings, pmdCount)).Port;

    private static async Task<(PortActorStatistics Port, IReadOnlyList<PmdStatistics> Pmds, PortHandle Handle)> RunWithPmds(PcapPortSettings settings, int pmdCount)
    {
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, pmdCount, Defaults.PmdSettings, Defaults.BridgeSettings);
        var port = PcapPortActor.Start(cluster.System, settings, node.Pmds, node.Batches);
        await node.UsePortsAsync(port.Links, Patience);
        await node.UseFlowsAsync(ActorReplayTests.Firewall(), Patience);
        port.Actor.Tell(StartTraffic.Instance);

        var drained = await port.Actor.Ask<PortDrained>(DrainAndReport.Instance, Patience);
        var pmdStats = await PacketAccounting.PmdStatisticsAsync(node, Patience);

        // Stopping closes the tx files.
        await port.Actor.GracefulStop(Patience);
        await node.StopAsync();
        return (drained.Statistics, pmdStats, port);
    }

    private PcapPortSettings Settings(PcapOrdering ordering, int queues) => new()
    {
        RxPath = TestData.Capture("udp-stream.pcap"),
        TxPaths = new Dictionary<uint, string>
        {
            [1] = Path.Combine(_dir, "tx1.pcap"),
            [2] = Path.Combine(_dir, "tx2.pcap"),
        },
        Ordering = ordering,
        QueuesPerPort = queues,
        Window = Defaults.PortWindow,
    };
}
