using Datapath.OpenFlow;
using Datapath.OpenFlow.Syntax;

namespace Datapath.Tests.OpenFlow;

/// <summary>Selecting installed flows by a match, as del-flows and mod-flows do: loose (at least as specific) and strict (same priority and match).</summary>
public sealed class FlowFilterTests
{
    private static readonly IReadOnlyList<FlowEntry> Rules = FlowParser.ParseFile(Firewall.Text, "firewall.flows");

    [Theory]
    [InlineData("", 7)]
    [InlineData("table=1", 4)]
    [InlineData("table=0", 3)]
    [InlineData("in_port=1", 2)]
    [InlineData("ip", 5)]
    [InlineData("table=1,ct_state=+est+trk,ip", 2)]
    [InlineData("ct_state=+est", 2)]
    [InlineData("ct_state=-est", 0)]
    [InlineData("tcp", 0)]
    [InlineData("arp", 1)]
    public void Loose_selection_takes_every_flow_at_least_as_specific_as_the_match(string filter, int expected)
    {
        var f = FlowParser.ParseFilter(filter);

        Assert.Equal(expected, Rules.Count(r => f.Selects(r, strict: false)));
    }

    [Fact]
    public void Loose_selection_ignores_priority_and_strict_selection_needs_it()
    {
        var f = FlowParser.ParseFilter("table=0,priority=5,arp");

        Assert.Single(Rules, r => f.Selects(r, strict: false));
        Assert.DoesNotContain(Rules, r => f.Selects(r, strict: true));
        Assert.Single(Rules, r => FlowParser.ParseFilter("table=0,priority=10,arp").Selects(r, strict: true));
    }

    [Fact]
    public void Strict_selection_wants_the_same_match_not_a_more_specific_one()
    {
        var looser = FlowParser.ParseFilter("table=1,priority=32768,ip");
        var exact = FlowParser.ParseFilter("table=1,priority=32768,ct_state=+est+trk,ip,in_port=2");

        Assert.DoesNotContain(Rules, r => looser.Selects(r, strict: true));
        var selected = Assert.Single(Rules, r => exact.Selects(r, strict: true));
        Assert.Equal("table=1, ct_state=+est+trk,ip,in_port=2 actions=output:1", selected.ToString());
    }

    [Fact]
    public void Without_a_table_the_filter_looks_in_every_table_and_with_one_only_there()
    {
        var anyTable = FlowParser.ParseFilter("priority=100,ct_state=-trk,ip");
        var wrongTable = FlowParser.ParseFilter("table=1,priority=100,ct_state=-trk,ip");

        Assert.Single(Rules, r => anyTable.Selects(r, strict: true));
        Assert.DoesNotContain(Rules, r => wrongTable.Selects(r, strict: true));
    }

    [Fact]
    public void A_masked_field_selects_flows_whose_value_lies_inside_the_mask()
    {
        var rules = FlowParser.ParseFile("ip,nw_src=10.0.0.1 actions=drop\nip,nw_src=10.0.1.1 actions=drop\nip,nw_src=10.0.0.0/24 actions=drop\nip,nw_src=10.0.0.0/16 actions=drop", "t");
        var f = FlowParser.ParseFilter("ip,nw_src=10.0.0.0/24");

        Assert.Equal(["ip,nw_src=10.0.0.1 actions=drop", "ip,nw_src=10.0.0.0/24 actions=drop"], rules.Where(r => f.Selects(r, strict: false)).Select(r => r.ToString()));
    }

    [Fact]
    public void A_filter_with_actions_or_a_bad_field_is_reported_with_its_column()
    {
        var withActions = Assert.Throws<FlowSyntaxException>(() => FlowParser.ParseFilter("in_port=1 actions=drop", "del"));
        var badField = Assert.Throws<FlowSyntaxException>(() => FlowParser.ParseFilter("ip,bogus=1", "del"));

        Assert.Equal("del:1:19: del-flows takes no actions", withActions.Errors.Single().ToString());
        Assert.Equal("del:1:4: unknown field 'bogus'", badField.Errors.Single().ToString());
    }

    [Theory]
    [InlineData("cookie=0x10000000000000001", 8, "cookie 0x10000000000000001 out of range (0..18446744073709551615)")]
    [InlineData("cookie=18446744073709551616", 8, "cookie 18446744073709551616 out of range (0..18446744073709551615)")]
    [InlineData("cookie=1/0x10000000000000001", 10, "cookie mask 0x10000000000000001 out of range (0..18446744073709551615)")]
    public void A_cookie_or_cookie_mask_wider_than_64_bits_is_refused_not_cut_to_its_low_bits(string filter, int column, string message)
    {
        // Cut to 64 bits, cookie=0x10000000000000001 would have selected (and deleted) the flows of cookie 1.
        var e = Assert.Throws<FlowSyntaxException>(() => FlowParser.ParseFilter(filter, "del"));

        Assert.Equal($"del:1:{column}: {message}", e.Errors.Single().ToString());
    }

    [Fact]
    public void A_modification_checks_its_actions_against_each_selected_rule()
    {
        var mod = FlowParser.ParseModification("ip actions=goto_table:1");

        Assert.Equal([new GotoTableAction(1)], mod.ActionsFor(Rules[0]));
        Assert.Throws<FlowSyntaxException>(() => mod.ActionsFor(Rules[3]));
    }

    [Fact]
    public void A_modification_needs_actions()
    {
        var e = Assert.Throws<FlowSyntaxException>(() => FlowParser.ParseModification("table=1,ip", "mod"));

        Assert.Equal("mod", e.Errors.Single().File);
        Assert.Equal(11, e.Errors.Single().Column);
    }
}
