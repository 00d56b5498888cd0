using Actors.Cluster;
using Actors.Conntrack;
using Actors.Node;
using Actors.Ports;
using Actors.Tests.Ports;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.Conntrack;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Tables;
using Datapath.Packets.Pcap;
using Datapath.Tests.Support;
using Host.Configuration;

namespace Actors.Tests.Conntrack;

/// <summary>
/// NAT through the actors, where a translated connection's two keys (original and reply tuple)
/// may hash to different conntrack shards, hosted by different PMDs or by the shard entities:
/// each scenario of captures/nat gives Open vSwitch's verdicts and the very frames Open vSwitch
/// sent on each port, with 1, 2 and 8 shards on 1 and 2 PMDs (shards hosted on the PMDs), and with
/// the shards on their entities (every claim and every reply tuple of another shard by message).
/// </summary>
public sealed class NatAcrossShardsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public static TheoryData<string, int, int, bool> ScenariosShardsPmdsHosting()
    {
        var data = new TheoryData<string, int, int, bool>();
        foreach (string name in Scenarios())
        {
            foreach (int shards in new[] { 1, 2, 8 })
            {
                data.Add(name, shards, 1, true);
                data.Add(name, shards, 2, true);
            }

            data.Add(name, 8, 1, false);
            data.Add(name, 8, 2, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ScenariosShardsPmdsHosting))]
    public async Task A_NAT_scenario_through_sharded_conntrack_gives_Open_vSwitch_verdicts_and_frames(string scenario, int shards, int pmds, bool hostOnPmds)
    {
        var finished = await Replay(scenario, shards, pmds, hostOnPmds);

        Assert.Equal(File.ReadAllLines(Expected(scenario, "verdict")), finished.Verdicts);
        AssertFrames(ReadFrames(Expected(scenario, "port1.pcap")), Sent(finished, 1), scenario + " port 1");
        AssertFrames(ReadFrames(Expected(scenario, "port2.pcap")), Sent(finished, 2), scenario + " port 2");
    }

    public static TheoryData<string, int, bool> ScenariosPmdsHosting()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (string name in Scenarios())
        {
            data.Add(name, 2, true);
            data.Add(name, 1, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ScenariosPmdsHosting))]
    public async Task With_the_megaflow_bypass_on_8_shards_give_the_same_verdicts_and_frames(string scenario, int pmds, bool hostOnPmds)
    {
        var finished = await Replay(scenario, 8, pmds, hostOnPmds, bypass: "megaflow");

        Assert.Equal(File.ReadAllLines(Expected(scenario, "verdict")), finished.Verdicts);
        AssertFrames(ReadFrames(Expected(scenario, "port1.pcap")), Sent(finished, 1), scenario + " port 1");
        AssertFrames(ReadFrames(Expected(scenario, "port2.pcap")), Sent(finished, 2), scenario + " port 2");
    }

    [Fact]
    public async Task With_8_shards_the_scenarios_reserve_reply_tuples_in_other_shards_and_send_replies_on_to_their_owners()
    {
        long elsewhere = 0;
        long sentOn = 0;
        foreach (string scenario in Scenarios())
        {
            var counters = new long[Enum.GetValues<ConntrackCounter>().Length];
            var finished = await Replay(scenario, 8, 2, hostOnPmds: true, counters: counters);
            Assert.Equal(File.ReadAllLines(Expected(scenario, "verdict")), finished.Verdicts);
            elsewhere += counters[(int)ConntrackCounter.NatReplyTupleElsewhere];
            sentOn += counters[(int)ConntrackCounter.NatOwnedElsewhere];
        }

        // Without the claims and the re-routing these replies would find no connection and drop.
        Assert.True(elsewhere > 0, "no translated connection had its reply tuple in another shard");
        Assert.True(sentOn > 0, "no packet was sent on to the owner of its connection");
    }

    internal static async Task<ReplayFinished> Replay(string scenario, int shards, int pmds, bool hostOnPmds, string bypass = "off", long[]? counters = null)
    {
        var config = TestConfigs.Cluster($"""
            datapath.conntrack.shards = {shards}
            datapath.conntrack.host-on-pmds = {(hostOnPmds ? "on" : "off")}
            """);
        var settings = Settings() with { Core = Defaults.PmdCoreOptions with { Bypass = Datapath.Bypass.BypassModes.TryParse(bypass, out var mode) ? mode : throw new ArgumentException(bypass, nameof(bypass)) } };
        await using var cluster = await DatapathCluster.StartAsync(config, DatapathSettings.From(config, "test").Conntrack, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, pmds, settings, Defaults.BridgeSettings);
        await node.UseFlowsAsync(Flows(), Patience);
        var finished = await ActorReplay.FinishAsync(node, ActorReplayTests.Frames(Path.Combine(Directory, scenario + ".pcap")), Patience);
        if (counters is not null)
        {
            for (int shard = 0; shard < shards; shard++)
            {
                var stats = await cluster.Conntrack.Ask<ShardStatistics>(new ConntrackEnvelope(shard, GetShardStatistics.Instance), Patience);
                for (int i = 0; i < counters.Length && i < stats.Counters.Length; i++)
                {
                    counters[i] += stats.Counters[i];
                }
            }
        }

        await node.StopAsync();
        return finished;
    }

    /// <summary>
    /// The PMD settings of these replays: conntrack answers are waited for as long as the test's
    /// patience. A new translated connection whose reply tuple is another shard's costs a claim's
    /// round trip more than a plain one; on a loaded machine (the whole suite beside other builds)
    /// the first of them can take longer than the default 5 s, and these tests are about verdicts,
    /// not about how long a loaded machine takes.
    /// </summary>
    internal static Actors.Pmd.PmdSettings Settings() => Defaults.PmdSettings with { ConntrackAnswerTimeout = Patience };

    internal static IEnumerable<string> Scenarios() =>
        System.IO.Directory.EnumerateFiles(Path.Combine(Directory, "specs"), "*.spec")
            .Select(p => Path.GetFileNameWithoutExtension(p)!)
            .Order(StringComparer.Ordinal);

    internal static string Expected(string scenario, string suffix) => Path.Combine(Directory, "expected", $"{scenario}.{suffix}");

    internal static List<byte[]> Sent(ReplayFinished finished, uint port) =>
        (finished.Transmitted ?? []).Where(t => t.Port == port).Select(t => t.Frame).ToList();

    internal static List<byte[]> ReadFrames(string pcap)
    {
        using var reader = PcapReader.Open(pcap);
        var frames = new List<byte[]>();
        while (reader.TryReadNext(out _))
        {
            frames.Add(reader.CurrentFrame.ToArray());
        }

        return frames;
    }

    internal static void AssertFrames(List<byte[]> expected, List<byte[]> actual, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: {actual.Count} frames, Open vSwitch sent {expected.Count}");
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].AsSpan().SequenceEqual(actual[i]), $"{what}: frame {i + 1} differs from Open vSwitch's");
        }
    }

    private static string Directory => TestData.Capture("nat");

    private static IReadOnlyList<FlowEntry> Flows()
    {
        var tables = new OpenFlowTables();
        return tables.AddFlows(File.ReadAllText(Path.Combine(Directory, "nat.flows")), "nat.flows").Select(r => r.Entry).ToList();
    }
}
