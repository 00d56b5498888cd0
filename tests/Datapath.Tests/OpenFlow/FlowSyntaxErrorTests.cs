using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Tables;

namespace Datapath.Tests.OpenFlow;

public class FlowSyntaxErrorTests
{
    // Each bad line: the column (1-based) the error points at and a piece of what it says.
    [Theory]
    [InlineData("foo=1 actions=drop", 1, "unknown field 'foo'")]
    [InlineData("in_port=abc actions=drop", 9, "expected a decimal or 0x-prefixed hexadecimal number, got 'abc'")]
    [InlineData("tp_dst=80 actions=drop", 1, "tp_dst: prerequisites not met: needs tcp, udp or sctp")]
    [InlineData("nw_src=10.0.0.1 actions=drop", 1, "ip_src: prerequisites not met: needs ip or arp")]
    [InlineData("ipv6_src=fd00::1 actions=drop", 1, "ipv6_src: prerequisites not met: needs ipv6")]
    [InlineData("ip,icmp_type=8 actions=drop", 4, "icmp_type: prerequisites not met: needs icmp or icmp6")]
    [InlineData("udp,tcp_flags=+syn actions=drop", 5, "tcp_flags: prerequisites not met: needs tcp")]
    [InlineData("icmp6,nd_target=fd00::1 actions=drop", 7, "nd_target: prerequisites not met: needs icmp6 with icmp_type=135 or icmp_type=136")]
    [InlineData("ip,nw_src=10.0.0.0/33 actions=drop", 20, "prefix length 33 is longer than 32 bits")]
    [InlineData("in_port=1/1 actions=drop", 10, "in_port does not support masking")]
    [InlineData("actions=frobnicate", 9, "unknown action 'frobnicate'")]
    [InlineData("ip actions=ct(table=1", 14, "unbalanced parentheses: '(' is never closed")]
    [InlineData("ip actions=output:1)", 20, "unbalanced parentheses: ')' without '('")]
    [InlineData("table=255 actions=drop", 7, "table 255 out of range (0..254)")]
    [InlineData("priority=70000 actions=drop", 10, "priority 70000 out of range (0..65535)")]
    [InlineData("ip,nw_src=10.0.0.300 actions=drop", 11, "expected an IPv4 address a.b.c.d, got '10.0.0.300'")]
    [InlineData("ipv6,ipv6_dst=fd00::g actions=drop", 15, "expected an IPv6 address")]
    [InlineData("ipv6,ipv6_dst=fe80::1%eth0 actions=drop", 15, "expected an IPv6 address, got 'fe80::1%eth0'")]
    [InlineData("ipv6,ipv6_dst=[fd00::1] actions=drop", 15, "expected an IPv6 address, got '[fd00::1]'")]
    [InlineData("dl_src=00:11:22:33:44 actions=drop", 8, "expected an Ethernet address")]
    [InlineData("ct_state=+foo actions=drop", 11, "ct_state: unknown flag 'foo'")]
    [InlineData("ct_state=+trk+trk actions=drop", 15, "ct_state: flag 'trk' given twice")]
    [InlineData("in_port=1,in_port=2 actions=drop", 11, "field in_port given twice")]
    [InlineData("ip,arp actions=drop", 4, "arp conflicts with ip")]
    [InlineData("reg0=1,xreg0=0x5 actions=drop", 8, "xreg0 conflicts with reg0 at column 1 (both set bits of xreg0)")]
    [InlineData("xxreg0=0,reg3=1 actions=drop", 10, "reg3 conflicts with xxreg0 at column 1 (both set bits of reg3)")]
    [InlineData("ip,nw_tos=0xfc,ip_dscp=1 actions=drop", 16, "ip_dscp conflicts with nw_tos at column 4 (both set bits of ip_dscp)")]
    [InlineData("vlan_tci=0x1005,vlan_vid=0x1007 actions=drop", 17, "vlan_vid conflicts with vlan_tci at column 1 (both set bits of vlan_vid)")]
    [InlineData("dl_vlan=5,vlan_tci=0 actions=drop", 11, "vlan_tci conflicts with a field given before it (both set bits of vlan_tci)")]
    [InlineData("actions=output:", 9, "output: missing port")]
    [InlineData("actions=output:0", 16, "output: expected a port number")]
    [InlineData("ip actions=ct(commit,nat(src=10.0.0.1,dst=10.0.0.2))", 26, "May only specify one of \"src\" or \"dst\".")]
    [InlineData("ip actions=ct(commit,nat(src=10.0.0.1:80-70))", 26, "invalid nat range \"10.0.0.1:80-70\"")]
    [InlineData("ip actions=ct(commit,nat(src=10.0.0.1,random,hash))", 26, "Both \"hash\" and \"random\" are not allowed.")]
    [InlineData("ip actions=ct(commit,nat(persistent))", 26, "Flags allowed only with \"src\" or \"dst\".")]
    [InlineData("ipv6 actions=ct(commit,nat(src=10.0.0.1))", 24, "ct: nat with an IPv4 range needs a rule that matches ip")]
    [InlineData("ip actions=ct(commit,exec(nat))", 27, "ct: nat is an argument of ct, not an action of exec()")]
    [InlineData("dl_vlan=7,dl_vlan=8,actions=drop", 11, "dl_vlan conflicts with a field given before it (both set bits of vlan_tci)")]
    [InlineData("vlan_tci=0x1005,dl_vlan=7,actions=drop", 17, "dl_vlan conflicts with a field given before it (both set bits of vlan_tci)")]
    [InlineData("vlan_pcp=1,dl_vlan_pcp=3,actions=drop", 12, "dl_vlan_pcp conflicts with a field given before it (both set bits of vlan_tci)")]
    [InlineData("dl_vlan=0xffff,dl_vlan_pcp=3,actions=drop", 16, "dl_vlan_pcp conflicts with a field given before it (both set bits of vlan_tci)")]
    [InlineData("dl_vlan_pcp=3,dl_vlan=0xffff,actions=drop", 15, "dl_vlan conflicts with a field given before it (both set bits of vlan_tci)")]
    [InlineData("actions=resubmit(,)", 18, "resubmit: at least one of port and table must be given")]
    [InlineData("actions=resubmit:in_port", 18, "resubmit: at least one of port and table must be given (in_port alone is neither)")]
    [InlineData("actions=resubmit(in_port,)", 18, "resubmit: at least one of port and table must be given (in_port alone is neither)")]
    [InlineData("actions=resubmit(1,2,3)", 18, "resubmit: expected at most PORT,TABLE")]
    [InlineData("actions=resubmit(,300)", 19, "resubmit: table 300 out of range")]
    [InlineData("in_port=1", 10, "expected 'actions=...'")]
    [InlineData("actions=drop,output:1", 9, "\"drop\" must not be accompanied by any other action")]
    [InlineData("table=2 actions=goto_table:1", 28, "goto_table:1 must go to a later table than the rule's table 2")]
    [InlineData("actions=goto_table:1,output:2", 9, "goto_table must be the last action")]
    [InlineData("actions=ct(commit)", 9, "ct: the rule must match ip or ipv6")]
    [InlineData("ip actions=ct(exec(set_field:1->ct_mark))", 12, "exec() sets ct_mark or ct_label, which needs commit")]
    [InlineData("ip actions=ct(commit,frob)", 22, "ct: unknown argument 'frob'")]
    [InlineData("ip actions=ct(commit,zone=NXM_NX_REG0[0..15],table=3,zone=2)", 54, "ct: zone given twice")]
    [InlineData("ip actions=ct(table=1,table=2)", 23, "ct: table given twice")]
    [InlineData("ip actions=ct(commit,nat(src=10.0.0.1),nat(dst=10.0.0.2))", 40, "ct: nat given twice")]
    [InlineData("actions=set_field:1->foo", 22, "set_field: unknown field 'foo'")]
    [InlineData("actions=set_field:10.0.0.1->ip_src", 29, "writing ip_src needs ip in the match")]
    [InlineData("actions=set_field:1->ct_mark", 22, "ct_mark may only be set inside ct(commit,exec(...))")]
    [InlineData("actions=load:0x10000->NXM_NX_REG0[0..15]", 14, "load: value 0x10000 does not fit in 16 bits")]
    [InlineData("actions=load:1->NXM_NX_REG0[0..40]", 28, "bad bit range [0..40]")]
    [InlineData("actions=load:1->NXM_NX_FOO[]", 17, "unknown field 'NXM_NX_FOO'")]
    [InlineData("ip,nw_tos=1 actions=drop", 11, "the two ECN bits must be zero")]
    [InlineData("actions=push_vlan:0x0800", 19, "push_vlan:0x0800: expected ethertype 0x8100 or 0x88a8")]
    [InlineData("dl_vlan=5000 actions=drop", 9, "dl_vlan 5000 out of range (0..4095)")]
    [InlineData("in_port actions=drop", 1, "in_port needs a value")]
    [InlineData("tcp actions=mod_tp_dst:70000", 24, "too large for tp_dst")]
    [InlineData("actions=note:0g", 14, "note: expected hex bytes")]
    [InlineData("actions=output:1,,output:2", 18, "empty action")]
    public void Bad_lines_name_file_line_column_and_what_was_expected(string line, int column, string message)
    {
        string file = "# header\n\n" + line + "\n";
        var e = Assert.Throws<FlowSyntaxException>(() => FlowParser.ParseFile(file, "bad.flows"));
        var error = Assert.Single(e.Errors);
        Assert.Equal("bad.flows", error.File);
        Assert.Equal(3, error.Line);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(column, error.Column);
        Assert.StartsWith($"bad.flows:3:{column}: ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_with_one_bad_line_installs_nothing_and_reports_every_bad_line()
    {
        var tables = new OpenFlowTables(new ManualClock());
        tables.AddFlows("in_port=9 actions=output:8", "before.flows");
        long version = tables.Version;
        string text = Firewall.Text + "\nfoo=1 actions=drop\nin_port=1 actions=bogus\n";
        var e = Assert.Throws<FlowSyntaxException>(() => tables.AddFlows(text, "fw.flows"));
        Assert.Equal(2, e.Errors.Count);
        Assert.Equal([9, 10], e.Errors.Select(x => x.Line));
        Assert.Equal(1, tables.Count);
        Assert.Equal(version, tables.Version);
    }
}
