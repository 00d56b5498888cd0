using Actors.Bridge;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Tables;
using Datapath.Tests.Support;

namespace Actors.Tests.Bridge;

/// <summary>The bridge's table definition without an actor system: versions, all-or-nothing commands, summed counters, expiry.</summary>
public sealed class BridgeFlowsTests
{
    private static string FirewallText => File.ReadAllText(TestData.Capture("firewall.flows"));

    [Fact]
    public void A_bad_line_installs_nothing_and_keeps_the_version()
    {
        var flows = new BridgeFlows();
        flows.Add(FirewallText, "firewall.flows");

        var e = Assert.Throws<FlowSyntaxException>(() => flows.Add("table=2, ip actions=drop\ntable=2, ip,nw_dst=10.0.0.300 actions=drop\n", "more.flows"));

        Assert.Equal("more.flows", e.Errors.Single().File);
        Assert.Equal(2, e.Errors.Single().Line);
        Assert.Equal(1, flows.Version);
        Assert.Equal(7, flows.Entries.Count);
    }

    [Fact]
    public void Adding_an_identical_flow_changes_nothing_and_a_new_action_replaces_the_rule()
    {
        var flows = new BridgeFlows();
        flows.Add(FirewallText, "firewall.flows");

        int same = flows.Add("table=0, priority=10,arp actions=NORMAL", "a");
        int replaced = flows.Add("table=0, priority=10,arp actions=drop", "b");

        Assert.Equal(0, same);
        Assert.Equal(1, replaced);
        Assert.Equal(2, flows.Version);
        Assert.Equal(7, flows.Entries.Count);
        Assert.Contains(flows.Entries, e => e.ToString() == "priority=10,arp actions=drop");
    }

    [Fact]
    public void Replace_keeps_unchanged_rules_with_their_counters_and_moves_the_version_once()
    {
        var flows = new BridgeFlows();
        flows.Add(FirewallText, "firewall.flows");
        var arp = flows.Entries.Single(e => e.Priority == 10);
        flows.Account(0, flows.Version, [(arp, 3, 180)]);

        int changes = flows.Replace(FirewallText.Replace("in_port=1 actions=output:2", "in_port=1 actions=drop", StringComparison.Ordinal), "new.flows");

        Assert.Equal(2, changes);
        Assert.Equal(2, flows.Version);
        Assert.Equal(3, flows.Find(arp)!.Packets);
        Assert.Contains(flows.Entries, e => e.ToString() == "table=1, ct_state=+est+trk,ip,in_port=1 actions=drop");
    }

    [Fact]
    public void Counters_are_summed_over_pmds_from_their_cumulative_reports()
    {
        var flows = new BridgeFlows();
        flows.Add(FirewallText, "firewall.flows");
        var ct = flows.Entries[0];

        flows.Account(0, 1, [(ct, 10, 1000)]);
        flows.Account(1, 1, [(ct, 5, 500)]);
        flows.Account(0, 1, [(ct, 12, 1200)]);

        Assert.Equal((17L, 1700L), (flows.Find(ct)!.Packets, flows.Find(ct)!.Bytes));
    }

    [Fact]
    public void A_pmd_whose_count_went_down_restarted_and_its_new_count_is_added_whole()
    {
        var flows = new BridgeFlows();
        flows.Add(FirewallText, "firewall.flows");
        var ct = flows.Entries[0];

        flows.Account(0, 1, [(ct, 10, 1000)]);
        flows.Account(0, 1, [(ct, 4, 400)]);

        Assert.Equal(14, flows.Find(ct)!.Packets);
    }

    [Fact]
    public void A_report_asked_for_before_a_rule_was_installed_is_not_credited_to_it()
    {
        var flows = new BridgeFlows();
        flows.Add(FirewallText, "firewall.flows");
        var arp = flows.Entries.Single(e => e.Priority == 10);
        flows.Delete(FlowParser.ParseFilter("arp"), strict: false);
        flows.Add([arp]);

        flows.Account(0, askedAtVersion: 1, [(arp, 9, 540)]);
        flows.Account(0, askedAtVersion: 3, [(arp, 2, 120)]);

        Assert.Equal(2, flows.Find(arp)!.Packets);
    }

    [Fact]
    public void Strict_delete_takes_one_rule_and_loose_delete_every_more_specific_one()
    {
        var flows = new BridgeFlows();
        flows.Add(FirewallText, "firewall.flows");

        int strictMiss = flows.Delete(FlowParser.ParseFilter("table=1,ip"), strict: true);
        int strictHit = flows.Delete(FlowParser.ParseFilter("table=1,ct_state=+new+trk,ip,in_port=2"), strict: true);
        int loose = flows.Delete(FlowParser.ParseFilter("table=1,ip"), strict: false);

        Assert.Equal((0, 1, 3), (strictMiss, strictHit, loose));
        Assert.Equal(3, flows.Version);
        Assert.All(flows.Entries, e => Assert.Equal(0, e.Table));
    }

    [Fact]
    public void Modify_keeps_priority_match_and_timeouts_and_a_misfit_action_changes_nothing()
    {
        var flows = new BridgeFlows();
        flows.Add("table=1, priority=5, hard_timeout=30, ct_state=+est+trk,ip,in_port=1 actions=output:2\ntable=1, arp actions=NORMAL", "t");

        int changed = flows.Modify(FlowParser.ParseModification("in_port=1 actions=output:3"), strict: false);
        Assert.Throws<FlowSyntaxException>(() => flows.Modify(FlowParser.ParseModification("table=1 actions=goto_table:1"), strict: false));

        Assert.Equal(1, changed);
        Assert.Equal(2, flows.Version);
        Assert.Equal("table=1, hard_timeout=30, priority=5,ct_state=+est+trk,ip,in_port=1 actions=output:3", flows.Entries.First(e => e.Priority == 5).ToString());
    }

    [Fact]
    public void Hard_timeouts_count_from_installation_and_idle_timeouts_from_the_last_report_of_use()
    {
        var clock = new StepClock();
        var flows = new BridgeFlows(clock);
        flows.Add("priority=2, hard_timeout=10, ip actions=drop\npriority=1, idle_timeout=5, arp actions=drop", "t");
        var arp = flows.Entries.Single(e => e.Priority == 1);

        clock.Advance(TimeSpan.FromSeconds(4));
        flows.Account(0, flows.Version, [(arp, 1, 60)]);
        clock.Advance(TimeSpan.FromSeconds(4));
        var none = flows.Expire();
        flows.Account(0, flows.Version, [(arp, 2, 120)]);
        clock.Advance(TimeSpan.FromSeconds(2));
        var hard = flows.Expire();
        clock.Advance(TimeSpan.FromSeconds(3));
        var idle = flows.Expire();

        Assert.Empty(none);
        Assert.Equal(RuleRemovalReason.HardTimeout, Assert.Single(hard).Reason);
        Assert.Equal(RuleRemovalReason.IdleTimeout, Assert.Single(idle).Reason);
        Assert.Empty(flows.Entries);
        Assert.Equal(3, flows.Version);
    }

    private sealed class StepClock : TimeProvider
    {
        private DateTimeOffset _now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
