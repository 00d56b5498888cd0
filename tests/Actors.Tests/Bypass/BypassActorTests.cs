using System.Text.RegularExpressions;
using Actors.Bridge;
using Actors.Cluster;
using Actors.Conntrack;
using Actors.Node;
using Actors.Pmd;
using Actors.Ports;
using Actors.Tests.Ports;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.Bypass;
using Datapath.Tests.Support;

namespace Actors.Tests.Bypass;

/// <summary>
/// The recirculation bypass through the actors: bypass flows are built and hit on the PMDs, the
/// conntrack shards revoke them (FIN/RST, flush) with messages, and what users read (verdicts,
/// dump-flows) is the same with the bypass on or off.
/// </summary>
public sealed partial class BypassActorTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("udp-stream")]
    [InlineData("tcp-http")]
    [InlineData("many-conns")]
    public async Task Dump_flows_reads_the_same_with_the_bypass_on_or_off_and_the_on_run_took_bypass_flows(string capture)
    {
        var frames = ActorReplayTests.Frames(TestData.Capture(capture + ".pcap"));

        var on = await ReplayAndDump(frames, bypass: true);
        var off = await ReplayAndDump(frames, bypass: false);

        Assert.Equal(off.Verdicts, on.Verdicts);
        Assert.Equal(WithoutDurations(off.Dump), WithoutDurations(on.Dump));
        Assert.True(on.Stats.Sum(p => p.Pipeline.BypassInstalls) > 0, "no bypass flow was installed");
        Assert.True(on.Stats.Sum(p => p.Pipeline.BypassHits) > 0, "no packet took a bypass flow");
        Assert.Equal(0, off.Stats.Sum(p => p.Pipeline.BypassHits));
        // Every packet that took a bypass flow skipped one recirculation.
        Assert.Equal(
            off.Stats.Sum(p => p.Pipeline.Recirculations),
            on.Stats.Sum(p => p.Pipeline.Recirculations + p.Pipeline.BypassHits - p.Pipeline.BypassGuardFallbacks));
    }

    [Fact]
    public async Task Shards_revoke_the_bypass_flows_of_connections_that_close()
    {
        // tcp-http: every connection ends with FIN handshakes; the shards say so with BypassFlowsRevoked.
        var frames = ActorReplayTests.Frames(TestData.Capture("tcp-http.pcap"));

        var on = await ReplayAndDump(frames, bypass: true, megaflows: false);

        Assert.True(on.Stats.Sum(p => p.Pipeline.BypassRevocations) > 0, "no bypass flow was revoked");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_conntrack_flush_leaves_no_stale_bypass_flow_and_later_verdicts_match_the_plain_datapath(bool megaflows)
    {
        var frames = ActorReplayTests.Frames(TestData.Capture("udp-stream.pcap"));
        var before = frames.Take(400).ToList();
        var after = frames.Skip(400).Take(400).ToList();

        var on = await ReplayFlushReplay(before, after, bypass: true, megaflows);
        var off = await ReplayFlushReplay(before, after, bypass: false, megaflows);

        Assert.Equal(off.Verdicts, on.Verdicts);

        // Per-connection bypass flows are revoked by the shards; shared masked bypass flows stay
        // and the guard sends the flushed connections' packets back through recirculation.
        Assert.True(megaflows ? on.FellBack > 0 : on.RevokedByFlush > 0, "the flush revoked nothing and no guard failed");
        // After the flush, port 2's packets are new again and dropped: no stale bypass flow forwarded one.
        Assert.Contains(on.Verdicts.Skip(before.Count), line => line.EndsWith(" -> drop", StringComparison.Ordinal));
    }

    private static async Task<(IReadOnlyList<string> Verdicts, string Dump, IReadOnlyList<PmdStatistics> Stats)> ReplayAndDump(IReadOnlyList<ReplayFrame> frames, bool bypass, bool megaflows = true)
    {
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, 2, Defaults.PmdSettings with { Core = Defaults.PmdCoreOptions with { Bypass = Mode(bypass, megaflows) } }, Defaults.BridgeSettings);
        var verdicts = await ActorReplay.RunAsync(node, ActorReplayTests.Firewall(), frames, Patience);
        var dump = await node.Bridge.Ask<FlowsDumped>(new DumpFlows(), Patience);
        var stats = await node.Bridge.Ask<PmdStatisticsGathered>(GetPmdStatistics.Instance, Patience);
        await node.StopAsync();
        return (verdicts, dump.Text, stats.Pmds);
    }

    private static async Task<(List<string> Verdicts, long RevokedByFlush, long FellBack)> ReplayFlushReplay(List<ReplayFrame> before, List<ReplayFrame> after, bool bypass, bool megaflows)
    {
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, 1, Defaults.PmdSettings with { Core = Defaults.PmdCoreOptions with { Bypass = Mode(bypass, megaflows) } }, Defaults.BridgeSettings);
        var verdicts = (await ActorReplay.RunAsync(node, ActorReplayTests.Firewall(), before, Patience)).ToList();
        long revokedBefore = await Revocations(node);
        for (int shard = 0; shard < cluster.ConntrackSettings.Shards; shard++)
        {
            await cluster.Conntrack.Ask<ConnectionsFlushed>(new ConntrackEnvelope(shard, new FlushConnections(null)), Patience);
        }

        // A shard tells the PMDs of its revocations right after answering the flush: once every
        // shard has answered a later question, they wait in the PMDs' mailboxes ahead of the next
        // packets and of the statistics request.
        for (int shard = 0; shard < cluster.ConntrackSettings.Shards; shard++)
        {
            await cluster.Conntrack.Ask<ShardStatistics>(new ConntrackEnvelope(shard, GetShardStatistics.Instance), Patience);
        }

        long revoked = await Revocations(node) - revokedBefore;

        long fellBackBefore = await Fallbacks(node);
        verdicts.AddRange(await ActorReplay.RunAsync(node, after, Patience));
        long fellBack = await Fallbacks(node) - fellBackBefore;
        await node.StopAsync();
        return (verdicts, revoked, fellBack);
    }

    private static async Task<long> Revocations(DatapathNode node) =>
        (await node.Bridge.Ask<PmdStatisticsGathered>(GetPmdStatistics.Instance, Patience)).Pmds.Sum(p => p.Pipeline.BypassRevocations);

    private static async Task<long> Fallbacks(DatapathNode node) =>
        (await node.Bridge.Ask<PmdStatisticsGathered>(GetPmdStatistics.Instance, Patience)).Pmds.Sum(p => p.Pipeline.BypassGuardFallbacks);

    private static BypassMode Mode(bool bypass, bool megaflows) =>
        !bypass ? BypassMode.Off : megaflows ? BypassMode.Megaflow : BypassMode.PerConnection;

    private static string WithoutDurations(string dump) => Durations().Replace(dump, "duration=X");

    [GeneratedRegex(@"duration=[0-9.]+s")]
    private static partial Regex Durations();
}
