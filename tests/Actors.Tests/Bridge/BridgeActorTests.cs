using System.Diagnostics;
using Actors.Bridge;
using Actors.PacketPath;
using Actors.Pmd;
using Actors.Tests.Support;
using Akka.Actor;
using Akka.TestKit;
using Datapath.OpenFlow;
using Datapath.Packets;
using Datapath.Stats;
using Datapath.Tests.Support;

namespace Actors.Tests.Bridge;

/// <summary>The bridge actor with probes for PMDs, on virtual time: what each PMD is sent, fan-outs, expiry.</summary>
public sealed class BridgeActorTests : Akka.TestKit.Xunit2.TestKit
{
    public BridgeActorTests()
        : base(TestConfigs.LocalVirtualTime())
    {
    }

    private static string FirewallText => File.ReadAllText(TestData.Capture("firewall.flows"));

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    [Fact]
    public void A_bad_add_flows_is_rejected_with_file_line_and_column_and_no_pmd_hears_of_it()
    {
        var pmd = CreateTestProbe();
        var bridge = Sys.ActorOf(BridgeActor.Props([pmd.Ref], Defaults.BridgeSettings));
        bridge.Tell(new AddFlows(FirewallText, "firewall.flows"));
        ExpectMsg<FlowsChanged>();
        pmd.ExpectMsg<UseFlows>();

        bridge.Tell(new AddFlows("table=2, ip actions=drop\n\ntable=2, ip,tp_dst=80 actions=drop\n", "extra.flows"));

        var rejected = ExpectMsg<FlowsRejected>();
        Assert.Equal("extra.flows:3:", Assert.Single(rejected.Errors)[..14]);
        Assert.Matches(@"^extra\.flows:3:\d+: ", rejected.Errors[0]);
        ExpectNothingSent(pmd, bridge);
        bridge.Tell(GetFlowTable.Instance);
        var table = ExpectMsg<FlowTableSnapshot>();
        Assert.Equal((1L, 7), (table.Version, table.Entries.Count));
    }

    [Fact]
    public void Replace_flows_sends_each_pmd_exactly_one_snapshot_holding_exactly_the_new_table()
    {
        var pmds = new[] { CreateTestProbe(), CreateTestProbe() };
        var bridge = Sys.ActorOf(BridgeActor.Props(pmds.Select(p => p.Ref).ToArray(), Defaults.BridgeSettings));
        bridge.Tell(new AddFlows(FirewallText, "firewall.flows"));
        ExpectMsg<FlowsChanged>();
        string replacement = FirewallText
            .Replace("in_port=1 actions=output:2", "in_port=1 actions=drop", StringComparison.Ordinal)
            .Replace("in_port=2 actions=output:1", "in_port=2 actions=drop", StringComparison.Ordinal);

        bridge.Tell(new ReplaceFlows(replacement, "replacement.flows"));

        var changed = ExpectMsg<FlowsChanged>();
        Assert.Equal((2L, 4), (changed.Version, changed.Affected));
        var expected = Datapath.OpenFlow.Syntax.FlowParser.ParseFile(replacement, "r");
        foreach (var pmd in pmds)
        {
            Assert.Equal(1, pmd.ExpectMsg<UseFlows>().Version);
            var snapshot = pmd.ExpectMsg<UseFlows>();
            Assert.Equal(2, snapshot.Version);
            Assert.Equal(expected.ToHashSet(), snapshot.Entries.ToHashSet());
            Assert.Equal(expected.Count, snapshot.Entries.Count);
            ExpectNothingSent(pmd, bridge);
        }
    }

    [Fact]
    public void A_command_that_changes_nothing_sends_the_pmds_nothing()
    {
        var pmd = CreateTestProbe();
        var bridge = Sys.ActorOf(BridgeActor.Props([pmd.Ref], Defaults.BridgeSettings));
        bridge.Tell(new AddFlows(FirewallText, "firewall.flows"));
        ExpectMsg<FlowsChanged>();
        pmd.ExpectMsg<UseFlows>();

        bridge.Tell(new DeleteFlows("tcp", Strict: false));
        bridge.Tell(new ReplaceFlows(FirewallText, "same.flows"));

        Assert.Equal(new FlowsChanged(1, 0), ExpectMsg<FlowsChanged>());
        Assert.Equal(new FlowsChanged(1, 0), ExpectMsg<FlowsChanged>());
        ExpectNothingSent(pmd, bridge);
    }

    [Fact]
    public void Dump_flows_sums_every_pmds_counts_without_the_bridge_waiting()
    {
        var pmds = new[] { CreateTestProbe(), CreateTestProbe() };
        var bridge = Sys.ActorOf(BridgeActor.Props(pmds.Select(p => p.Ref).ToArray(), Defaults.BridgeSettings));
        bridge.Tell(new AddFlows(FirewallText, "firewall.flows"));
        ExpectMsg<FlowsChanged>();
        var flows = pmds[0].ExpectMsg<UseFlows>().Entries;
        pmds[1].ExpectMsg<UseFlows>();

        bridge.Tell(new DumpFlows());
        pmds[0].ExpectMsg<GetRuleStatistics>();
        pmds[1].ExpectMsg<GetRuleStatistics>();
        // The bridge answers other commands while the dump is gathered.
        bridge.Tell(GetFlowTable.Instance);
        ExpectMsg<FlowTableSnapshot>();
        pmds[0].Reply(new RuleStatistics(0, [(flows[0], 10, 1000), (flows[1], 1, 60)]));
        pmds[1].Reply(new RuleStatistics(1, [(flows[0], 7, 700)]));

        var dump = ExpectMsg<FlowsDumped>();
        Assert.Equal(0, dump.PmdsMissing);
        var lines = dump.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(7, lines.Length);
        Assert.Contains("n_packets=17, n_bytes=1700, priority=100,ct_state=-trk,ip actions=ct(table=1)", lines[0], StringComparison.Ordinal);
        Assert.Contains("n_packets=1, n_bytes=60, priority=10,arp actions=NORMAL", lines[1], StringComparison.Ordinal);
        Assert.StartsWith(" cookie=0x0, duration=", lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_pmd_that_does_not_answer_is_counted_missing_after_the_gather_timeout()
    {
        var pmds = new[] { CreateTestProbe(), CreateTestProbe() };
        var bridge = Sys.ActorOf(BridgeActor.Props(pmds.Select(p => p.Ref).ToArray(), Defaults.BridgeSettings with { GatherTimeout = TimeSpan.FromSeconds(2), ExpiryInterval = TimeSpan.FromHours(1) }));
        bridge.Tell(new AddFlows(FirewallText, "firewall.flows"));
        ExpectMsg<FlowsChanged>();
        var flows = pmds[0].ExpectMsg<UseFlows>().Entries;

        bridge.Tell(new DumpFlows());
        pmds[0].FishForMessage(m => m is GetRuleStatistics);
        pmds[0].Reply(new RuleStatistics(0, [(flows[0], 10, 1000)]));
        Assert.False(HasMessages, "answered before the gather timeout");
        // The gatherer starts its timer when it starts, after the bridge sent the questions.
        this.AdvanceUntilMessage(TimeSpan.FromSeconds(2));

        var dump = ExpectMsg<FlowsDumped>();
        Assert.Equal(1, dump.PmdsMissing);
        Assert.Contains("n_packets=10, n_bytes=1000, priority=100", dump.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Pmd_statistics_are_gathered_from_every_pmd_in_pmd_order()
    {
        var pmds = new[] { CreateTestProbe(), CreateTestProbe() };
        var bridge = Sys.ActorOf(BridgeActor.Props(pmds.Select(p => p.Ref).ToArray(), Defaults.BridgeSettings));

        bridge.Tell(GetPmdStatistics.Instance);
        pmds[1].ExpectMsg<GetPmdStatistics>();
        pmds[1].Reply(Stats(1, megaflows: 4));
        pmds[0].ExpectMsg<GetPmdStatistics>();
        pmds[0].Reply(Stats(0, megaflows: 9));

        var gathered = ExpectMsg<PmdStatisticsGathered>();
        Assert.Equal([(0, 9L), (1, 4L)], gathered.Pmds.Select(s => (s.Pmd, s.MegaflowCount)));
        Assert.Equal(0, gathered.PmdsMissing);
    }

    [Fact]
    public void A_hard_timeout_removes_the_rule_on_the_bridges_clock_and_publishes_a_new_version()
    {
        var pmd = CreateTestProbe();
        var bridge = Sys.ActorOf(BridgeActor.Props([pmd.Ref], Defaults.BridgeSettings));
        Sys.EventStream.Subscribe(TestActor, typeof(FlowsExpired));
        bridge.Tell(new AddFlows(FirewallText + "table=0, priority=50, hard_timeout=3, ip,nw_dst=10.0.0.9 actions=drop\n", "f"));
        ExpectMsg<FlowsChanged>();
        Assert.Equal(8, pmd.ExpectMsg<UseFlows>().Entries.Count);

        Scheduler.Advance(TimeSpan.FromSeconds(2));
        ExpectNothingSent(pmd, bridge);
        Scheduler.Advance(TimeSpan.FromSeconds(1));

        var snapshot = pmd.ExpectMsg<UseFlows>();
        Assert.Equal((2L, 7), (snapshot.Version, snapshot.Entries.Count));
        var expired = ExpectMsg<FlowsExpired>();
        Assert.Equal("hard_timeout", Assert.Single(expired.Rules).Reason);
    }

    [Fact]
    public void An_idle_timeout_expires_a_rule_only_once_the_pmds_report_it_unused_for_that_long()
    {
        var pmd = CreateTestProbe();
        var bridge = Sys.ActorOf(BridgeActor.Props([pmd.Ref], Defaults.BridgeSettings));
        bridge.Tell(new AddFlows("priority=5, idle_timeout=2, arp actions=NORMAL\npriority=1 actions=drop\n", "f"));
        ExpectMsg<FlowsChanged>();
        var arp = pmd.ExpectMsg<UseFlows>().Entries[0];

        // Used during each of the first three seconds: the rule stays (no new snapshot). Each
        // wait for the gather to end also lets it finish before the next tick.
        for (int second = 1; second <= 3; second++)
        {
            Scheduler.Advance(TimeSpan.FromSeconds(1));
            pmd.ExpectMsg<GetRuleStatistics>();
            ReplyAndAwaitGather(pmd, new RuleStatistics(0, [(arp, second, second * 60)]));
            ExpectNothingSent(pmd, bridge);
        }

        Scheduler.Advance(TimeSpan.FromSeconds(1));
        pmd.ExpectMsg<GetRuleStatistics>();
        ReplyAndAwaitGather(pmd, new RuleStatistics(0, [(arp, 3, 180)]));
        ExpectNothingSent(pmd, bridge);
        Scheduler.Advance(TimeSpan.FromSeconds(1));
        pmd.ExpectMsg<GetRuleStatistics>();
        pmd.Reply(new RuleStatistics(0, [(arp, 3, 180)]));

        var snapshot = pmd.ExpectMsg<UseFlows>();
        Assert.Equal("priority=1 actions=drop", Assert.Single(snapshot.Entries).ToString());
    }

    [Fact]
    public void A_registered_pmd_gets_the_current_ports_and_flows_and_a_stopped_one_is_forgotten()
    {
        var first = CreateTestProbe();
        var bridge = Sys.ActorOf(BridgeActor.Props([first.Ref], Defaults.BridgeSettings));
        bridge.Tell(new AddFlows(FirewallText, "firewall.flows"));
        ExpectMsg<FlowsChanged>();
        bridge.Tell(new AddPort(new PortLink(1, TestActor, new ConcurrentPacketPool(4))));
        Assert.Equal([1u], ExpectMsg<PortsChanged>().Ports);

        var late = CreateTestProbe();
        bridge.Tell(new RegisterPmd(late.Ref));

        Assert.Equal(1, ExpectMsg<PmdRegistered>().Version);
        Assert.Equal(1u, Assert.Single(late.ExpectMsg<UsePorts>().Ports).Port);
        Assert.Equal(7, late.ExpectMsg<UseFlows>().Entries.Count);

        Watch(first.Ref);
        Sys.Stop(first.Ref);
        ExpectTerminated(first.Ref);

        // The bridge learns of the stop by its own Terminated, which may come after a request the
        // test sends now; a gather that still asks the stopped PMD counts it missing at once. So
        // ask until one no longer asks it: the stopped PMD is forgotten, the late one answers.
        var forgetting = Stopwatch.StartNew();
        PmdStatisticsGathered gathered;
        do
        {
            Assert.True(forgetting.Elapsed < TimeSpan.FromSeconds(20), "the bridge still asks the stopped PMD");
            bridge.Tell(GetPmdStatistics.Instance);
            late.ExpectMsg<GetPmdStatistics>();
            late.Reply(Stats(7, megaflows: 1));
            gathered = ExpectMsg<PmdStatisticsGathered>();
            Assert.Equal(7, Assert.Single(gathered.Pmds).Pmd);
        }
        while (gathered.PmdsMissing != 0);
    }

    /// <summary>
    /// Asserts that the bridge has sent <paramref name="pmd"/> nothing more. The bridge answers a
    /// question only after the messages before it, and a probe receives on the sender's thread, so
    /// whatever the bridge sent while handling them is queued by the time the answer is: no wait.
    /// </summary>
    private void ExpectNothingSent(TestProbe pmd, IActorRef bridge)
    {
        bridge.Tell(GetFlowTable.Instance);
        ExpectMsg<FlowTableSnapshot>();
        Assert.False(pmd.HasMessages, $"the bridge also sent the PMD {pmd.ReceiveOne(TimeSpan.Zero)}");
    }

    /// <summary>Answers the gatherer that asked <paramref name="pmd"/> and waits until it has handed the answers to the bridge (it stops right after).</summary>
    private void ReplyAndAwaitGather(TestProbe pmd, RuleStatistics answer)
    {
        var gatherer = pmd.LastSender;
        Watch(gatherer);
        pmd.Reply(answer);
        ExpectTerminated(gatherer);
    }

    private static PmdStatistics Stats(int pmd, long megaflows) =>
        new(pmd, new PmdStats(), megaflows, 0, 0, 0, 0, 0, 0, 0, new Dictionary<string, long>());
}
