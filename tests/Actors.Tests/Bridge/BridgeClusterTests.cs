using System.Globalization;
using System.Text.RegularExpressions;
using Actors.Bridge;
using Actors.Cluster;
using Actors.Node;
using Actors.Pmd;
using Actors.Ports;
using Actors.Tests.Ports;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.Conntrack;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Normal;
using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets;
using Datapath.Pipeline;
using Datapath.Tests.Support;

namespace Actors.Tests.Bridge;

/// <summary>
/// The bridge on a real single-node cluster with real PMD actors and conntrack shards: flow
/// changes between stretches of a capture replayed through the actors. The reference for each
/// stretch is the single-threaded datapath with fresh caches on the table of that stretch,
/// sharing one conntrack table across stretches, so it cannot forward by a stale flow.
/// </summary>
public sealed partial class BridgeClusterTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static string FirewallText => File.ReadAllText(TestData.Capture("firewall.flows"));

    [Fact]
    public async Task After_a_flow_change_under_traffic_every_verdict_follows_the_new_table_and_megaflows_were_removed()
    {
        var frames = ActorReplayTests.Frames(TestData.Capture("udp-stream.pcap"));
        var before = frames.Take(600).ToList();
        var after = frames.Skip(600).Take(600).ToList();
        string portOneEstDropped = FirewallText.Replace("in_port=1 actions=output:2", "in_port=1 actions=drop", StringComparison.Ordinal);
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, 2, Defaults.PmdSettings, Defaults.BridgeSettings);

        var first = await ActorReplay.RunAsync(node, ActorReplayTests.Firewall(), before, Patience);
        var warm = await node.Bridge.Ask<PmdStatisticsGathered>(GetPmdStatistics.Instance, Patience);
        var changed = await node.Bridge.Ask<FlowsChanged>(new ReplaceFlows(portOneEstDropped, "changed.flows"), Patience);
        await AssertTable(node, portOneEstDropped);
        var second = await ActorReplay.RunAsync(node, after, Patience);
        var revalidated = await node.Bridge.Ask<PmdStatisticsGathered>(GetPmdStatistics.Instance, Patience);
        await node.StopAsync();

        var reference = Reference([(FirewallText, before), (portOneEstDropped, after)]);
        var old = File.ReadAllLines(TestData.Capture(Path.Combine("expected", "udp-stream.verdict")));
        Assert.Equal(2, changed.Affected);
        Assert.Equal(old.Take(600), first);
        Assert.Equal(reference.Skip(600), second);
        // The change matters: most of port 1's packets went to port 2 before and are dropped now.
        int differing = second.Where((line, i) => line != old[600 + i]).Count();
        Assert.True(differing > 250, $"only {differing} verdicts differ from the old table's");
        // The stream is established by then: no IPv4 frame from port 1 gets through any more.
        Assert.All(second.Where((_, i) => after[i].Port == 1 && IsIpv4(after[i])), line => Assert.EndsWith(" -> drop", line, StringComparison.Ordinal));
        Assert.True(warm.Pmds.Sum(p => p.MegaflowCount) > 0);
        Assert.True(revalidated.Pmds.Sum(p => p.MegaflowsRemoved) > warm.Pmds.Sum(p => p.MegaflowsRemoved));
        Assert.Equal(0, revalidated.PmdsMissing);
    }

    [Fact]
    public async Task Dump_flows_after_tcp_http_on_two_pmds_sums_the_counts_of_the_single_threaded_datapath()
    {
        var frames = ActorReplayTests.Frames(TestData.Capture("tcp-http.pcap"));
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, 2, Defaults.PmdSettings, Defaults.BridgeSettings);

        await ActorReplay.RunAsync(node, ActorReplayTests.Firewall(), frames, Patience);
        var dump = await node.Bridge.Ask<FlowsDumped>(new DumpFlows(), Patience);
        await node.StopAsync();

        var counts = Counts(dump.Text);
        Assert.Equal(0, dump.PmdsMissing);
        Assert.Equal(Counts(InlineDump(frames)), counts);
        Assert.Equal(134, counts["priority=100,ct_state=-trk,ip actions=ct(table=1)"].Packets);
        Assert.Equal(2, counts["priority=10,arp actions=NORMAL"].Packets);
        Assert.Equal(6, counts["ct_state=+new+trk,ip,in_port=1 actions=ct(commit),output:2"].Packets);
        Assert.Equal(51, counts["ct_state=+est+trk,ip,in_port=1 actions=output:2"].Packets);
        Assert.Equal(77, counts["ct_state=+est+trk,ip,in_port=2 actions=output:1"].Packets);
    }

    [Fact]
    public async Task Del_flows_and_mod_flows_strict_and_loose_change_what_the_pmds_do()
    {
        var frames = ActorReplayTests.Frames(TestData.Capture("udp-stream.pcap"));
        var stretches = Enumerable.Range(0, 5).Select(i => frames.Skip(i * 200).Take(200).ToList()).ToArray();
        string portTwoDropped = FirewallText.Replace("in_port=2 actions=output:1", "in_port=2 actions=drop", StringComparison.Ordinal);
        string noEstFromOne = string.Join('\n', FirewallText.Split('\n').Where(l => !l.Contains("+est+trk,ip,in_port=1", StringComparison.Ordinal)));
        string tableZeroOnly = string.Join('\n', FirewallText.Split('\n').Where(l => !l.StartsWith("table=1", StringComparison.Ordinal)));
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, 2, Defaults.PmdSettings, Defaults.BridgeSettings);
        var verdicts = new List<string>();

        verdicts.AddRange(await ActorReplay.RunAsync(node, ActorReplayTests.Firewall(), stretches[0], Patience));
        var looseMod = await Command(node, new ModifyFlows("table=1,in_port=2 actions=drop", Strict: false), portTwoDropped);
        verdicts.AddRange(await ActorReplay.RunAsync(node, stretches[1], Patience));
        var strictModMiss = await Command(node, new ModifyFlows("table=1,in_port=2 actions=output:1", Strict: true), portTwoDropped);
        var strictMod = await Command(node, new ModifyFlows("table=1,ct_state=+est+trk,ip,in_port=2 actions=output:1", Strict: true), FirewallText);
        verdicts.AddRange(await ActorReplay.RunAsync(node, stretches[2], Patience));
        var strictDel = await Command(node, new DeleteFlows("table=1,ct_state=+est+trk,ip,in_port=1", Strict: true), noEstFromOne);
        verdicts.AddRange(await ActorReplay.RunAsync(node, stretches[3], Patience));
        var looseDel = await Command(node, new DeleteFlows("table=1", Strict: false), tableZeroOnly);
        verdicts.AddRange(await ActorReplay.RunAsync(node, stretches[4], Patience));
        await node.StopAsync();

        // The loose mod selects both in_port=2 rules of table 1; the new-connection one already dropped.
        Assert.Equal((1, 0, 1, 1, 3), (looseMod.Affected, strictModMiss.Affected, strictMod.Affected, strictDel.Affected, looseDel.Affected));
        var reference = Reference([(FirewallText, stretches[0]), (portTwoDropped, stretches[1]), (FirewallText, stretches[2]), (noEstFromOne, stretches[3]), (tableZeroOnly, stretches[4])]);
        Assert.Equal(reference, verdicts);
        // Each stretch shows its table: port 2 dropped, both ways again, port 1 dropped, only ARP left.
        Assert.All(verdicts.Skip(200).Take(200).Where(v => v.Contains(" 2 -> ", StringComparison.Ordinal)), v => Assert.EndsWith("drop", v, StringComparison.Ordinal));
        Assert.Contains(verdicts.Skip(400).Take(200), v => v.EndsWith(" 2 -> 1", StringComparison.Ordinal));
        Assert.All(verdicts.Skip(600).Take(200).Where(v => v.Contains(" 1 -> ", StringComparison.Ordinal)), v => Assert.EndsWith("drop", v, StringComparison.Ordinal));
        Assert.All(verdicts.Skip(800), v => Assert.EndsWith("drop", v, StringComparison.Ordinal));
    }

    /// <summary>Sends a flow command and checks the bridge's table is then exactly <paramref name="expectedText"/>.</summary>
    private static async Task<FlowsChanged> Command(DatapathNode node, object command, string expectedText)
    {
        var changed = await node.Bridge.Ask<FlowsChanged>(command, Patience);
        await AssertTable(node, expectedText);
        return changed;
    }

    private static async Task AssertTable(DatapathNode node, string expectedText)
    {
        var snapshot = await node.Bridge.Ask<FlowTableSnapshot>(GetFlowTable.Instance, Patience);
        var expected = FlowParser.ParseFile(expectedText, "expected");
        Assert.Equal(expected.Count, snapshot.Entries.Count);
        Assert.Equal(expected.ToHashSet(), snapshot.Entries.ToHashSet());
    }

    private static bool IsIpv4(ReplayFrame frame) => frame.Bytes[12] == 0x08 && frame.Bytes[13] == 0x00;

    /// <summary>
    /// Verdicts of the single-threaded datapath: each stretch on a fresh datapath (empty caches)
    /// translating with its own table, one conntrack table and MAC table throughout.
    /// </summary>
    private static List<string> Reference(IReadOnlyList<(string FlowsText, List<ReplayFrame> Frames)> stretches)
    {
        var conntrack = new ConnectionTable(Defaults.ConntrackOptions);
        var macs = new MacLearningTable();
        var sink = new PortsSink();
        var batch = new PacketBatch();
        var verdicts = new List<string>();
        foreach (var (text, frames) in stretches)
        {
            var tables = new OpenFlowTables();
            tables.AddFlows(text, "reference.flows");
            var datapath = new InlineDatapath(new Translator(tables, new RecircRegistry(), [1, 2], macs), Defaults.PmdCoreOptions, conntrack);
            foreach (var frame in frames)
            {
                sink.Ports.Clear();
                Assert.True(datapath.TryReceive(frame.Bytes, frame.Port, out var packet));
                batch.Add(packet);
                datapath.Process(batch, frame.TimeMs, sink);
                verdicts.Add(string.Create(CultureInfo.InvariantCulture, $"{frame.Number} {frame.Port} -> {(sink.Ports.Count == 0 ? "drop" : string.Join(',', sink.Ports))}"));
            }
        }

        return verdicts;
    }

    /// <summary>dump-flows of the single-threaded datapath after the capture and a statistics push.</summary>
    private static string InlineDump(IReadOnlyList<ReplayFrame> frames)
    {
        var tables = new OpenFlowTables();
        tables.AddFlows(FirewallText, "firewall.flows");
        var translator = new Translator(tables, new RecircRegistry(), [1, 2]);
        var datapath = new InlineDatapath(translator, Defaults.PmdCoreOptions, new ConnectionTable(Defaults.ConntrackOptions));
        var sink = new PortsSink();
        var batch = new PacketBatch();
        foreach (var frame in frames)
        {
            Assert.True(datapath.TryReceive(frame.Bytes, frame.Port, out var packet));
            batch.Add(packet);
            datapath.Process(batch, frame.TimeMs, sink);
        }

        datapath.Core.PushStatistics(new TranslationRevalidator(translator));
        return tables.DumpFlows();
    }

    private static Dictionary<string, (long Packets, long Bytes)> Counts(string dump)
    {
        var counts = new Dictionary<string, (long Packets, long Bytes)>();
        foreach (string line in dump.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var m = DumpLine().Match(line);
            Assert.True(m.Success, line);
            counts[m.Groups[3].Value] = (long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        }

        return counts;
    }

    [GeneratedRegex(@"n_packets=(\d+), n_bytes=(\d+), (.*)$")]
    private static partial Regex DumpLine();

    private sealed class PortsSink : IPacketSink
    {
        public List<uint> Ports { get; } = [];

        public void Transmit(uint port, Packet packet) => Ports.Add(port);
    }
}
