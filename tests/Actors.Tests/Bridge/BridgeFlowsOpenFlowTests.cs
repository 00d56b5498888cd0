using Actors.Bridge;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Wire;
using Datapath.Tests.Support;

namespace Actors.Tests.Bridge;

/// <summary>OpenFlow's flow_mod semantics on the bridge's one table (Open vSwitch's add_flow, modify_flows, delete_flows).</summary>
public sealed class BridgeFlowsOpenFlowTests
{
    private static string FirewallText => File.ReadAllText(TestData.Capture("firewall.flows"));

    [Fact]
    public void Check_overlap_refuses_an_add_that_a_packet_could_match_with_an_existing_rule_of_its_priority()
    {
        var flows = new BridgeFlows();
        flows.Add(FirewallText, "firewall.flows");

        var overlapping = FlowParser.ParseLine("table=0,priority=100,check_overlap,ip,nw_src=10.0.0.1 actions=drop");
        var e = Assert.Throws<OfpException>(() => flows.AddFlow(overlapping));
        Assert.Equal(OfpErrorKind.FlowModOverlap, e.Kind);

        // Another priority, or a disjoint match, does not overlap.
        Assert.Equal(1, flows.AddFlow(FlowParser.ParseLine("table=0,priority=101,check_overlap,ip,nw_src=10.0.0.1 actions=drop")));
        Assert.Equal(1, flows.AddFlow(FlowParser.ParseLine("table=0,priority=10,check_overlap,ip actions=drop")));
        Assert.Equal(9, flows.Entries.Count);
    }

    [Fact]
    public void Modify_keeps_the_counters_unless_reset_counts_and_an_add_over_a_rule_keeps_them_too()
    {
        var flows = new BridgeFlows();
        flows.Add(FirewallText, "firewall.flows");
        var arp = flows.Entries.Single(e => e.Priority == 10);
        flows.Account(0, flows.Version, [(arp, 5, 300)]);

        var filter = new FlowFilter(0, 10, arp.Match);
        Assert.Equal(1, flows.ModifyFlows(filter, strict: true, [new ReservedOutputAction(ReservedPort.Flood)], null, resetCounts: false, toAdd: null));
        var flooded = flows.Entries.Single(e => e.Priority == 10);
        Assert.Equal("FLOOD", ActionFormatter.Format(flooded.Actions));
        Assert.Equal(5, flows.Find(flooded)!.Packets);

        Assert.Equal(1, flows.AddFlow(flooded with { Actions = [] }));
        Assert.Equal(5, flows.Find(flows.Entries.Single(e => e.Priority == 10))!.Packets);

        Assert.Equal(1, flows.ModifyFlows(filter, strict: true, [new ReservedOutputAction(ReservedPort.Normal)], null, resetCounts: true, toAdd: null));
        Assert.Equal(0, flows.Find(flows.Entries.Single(e => e.Priority == 10))!.Packets);
    }

    [Fact]
    public void A_modify_that_selects_nothing_adds_the_flow_only_when_openflow_10_asks_for_it()
    {
        var flows = new BridgeFlows();
        var entry = FlowParser.ParseLine("table=2,priority=5,udp actions=drop");
        var filter = new FlowFilter(2, 5, entry.Match);

        Assert.Equal(0, flows.ModifyFlows(filter, strict: false, entry.Actions, null, resetCounts: false, toAdd: null));
        Assert.Empty(flows.Entries);
        Assert.Equal(1, flows.ModifyFlows(filter, strict: false, entry.Actions, null, resetCounts: false, toAdd: entry));
        Assert.Equal(entry, Assert.Single(flows.Entries));
    }

    [Fact]
    public void Delete_by_cookie_mask_and_out_port_removes_only_those_and_reports_them_for_flow_removed()
    {
        var flows = new BridgeFlows();
        flows.Add("cookie=0x11,table=0,priority=1,ip actions=output:2\ncookie=0x12,table=0,priority=2,ip actions=output:1\ncookie=0x21,send_flow_rem,table=1,priority=3,ip actions=output:2\n", "cookies");

        int byCookie = flows.Delete(new FlowFilter(null, FlowEntry.DefaultPriority, OfMatch.CatchAll) { Cookie = 0x10, CookieMask = 0xf0 }, strict: false);
        Assert.Equal(2, byCookie);
        var left = Assert.Single(flows.Entries);
        Assert.Equal(0x21UL, left.Cookie);

        Assert.Equal(0, flows.Delete(new FlowFilter(null, FlowEntry.DefaultPriority, OfMatch.CatchAll) { OutPort = 1 }, strict: false));
        Assert.Equal(1, flows.Delete(new FlowFilter(null, FlowEntry.DefaultPriority, OfMatch.CatchAll) { OutPort = 2 }, strict: false));

        var removed = flows.TakeRemoved();
        Assert.Equal(3, removed.Count);
        Assert.All(removed, r => Assert.Equal(RuleRemovalReason.Delete, r.Reason));
        Assert.Equal(FlowModFlags.SendFlowRemoved, removed[^1].Rule.Entry.Flags);
        Assert.Empty(flows.TakeRemoved());
    }

    [Fact]
    public void Flow_statistics_select_loosely_and_tables_count_their_rules()
    {
        var flows = new BridgeFlows();
        flows.Add(FirewallText, "firewall.flows");
        var est = flows.Entries.Single(e => e.ToString().Contains("+est+trk,ip,in_port=1", StringComparison.Ordinal));
        flows.Account(0, flows.Version, [(est, 7, 448)]);

        var selected = flows.Statistics(FlowParser.ParseFilter("table=1,in_port=1"));
        Assert.Equal(2, selected.Count);
        Assert.Equal(7, selected.Single(s => s.Entry.Equals(est)).Packets);

        var tables = flows.TableStatistics();
        Assert.Equal(255, tables.Count);
        Assert.Equal((3, 4, 0), (tables[0].ActiveCount, tables[1].ActiveCount, tables[2].ActiveCount));
        Assert.Equal(7, tables[1].Matched);
    }
}
