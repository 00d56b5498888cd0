using Datapath.Actions;
using Datapath.Flow;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.OpenFlow.Trace;
using Datapath.Packets;

namespace Datapath.Tests.OpenFlow;

/// <summary>
/// The NAT part of the flow syntax: ct's nat and timeout arguments and the ct_nw_* match fields,
/// printed as ovs-ofctl dump-flows prints them (format_NAT, match_format), and what translation
/// makes of them.
/// </summary>
public sealed class NatSyntaxTests
{
    [Theory]
    [InlineData("ip actions=ct(nat)", "ip actions=ct(nat)")]
    [InlineData("ip actions=ct(table=1,zone=1,nat)", "ip actions=ct(table=1,zone=1,nat)")]
    [InlineData("ip actions=ct(commit,nat(src=192.0.2.100)),output:2", "ip actions=ct(commit,nat(src=192.0.2.100)),output:2")]
    [InlineData("ip actions=ct(commit,nat(src=10.0.0.1-10.0.0.5:1000-2000,persistent,random))", "ip actions=ct(commit,nat(src=10.0.0.1-10.0.0.5:1000-2000,persistent,random))")]
    [InlineData("ip actions=ct(commit,nat(dst=10.0.0.1:80))", "ip actions=ct(commit,nat(dst=10.0.0.1:80))")]
    [InlineData("ip actions=ct(commit,nat(dst=10.0.0.1-10.0.0.1:80-80,hash))", "ip actions=ct(commit,nat(dst=10.0.0.1:80,hash))")]
    [InlineData("ipv6 actions=ct(commit,nat(src=2001:db8::100))", "ipv6 actions=ct(commit,nat(src=2001:db8::100))")]
    [InlineData("ipv6 actions=ct(commit,nat(src=[2001:db8::1]-[2001:db8::9]:5000-6000))", "ipv6 actions=ct(commit,nat(src=[2001:db8::1]-[2001:db8::9]:5000-6000))")]
    [InlineData("ip actions=ct(commit,nat(src))", "ip actions=ct(commit,nat(src))")]
    [InlineData("ip actions=ct(commit,nat:src=10.0.0.1)", "ip actions=ct(commit,nat(src=10.0.0.1))")]
    [InlineData("ip actions=ct(commit,nat=dst=10.0.0.1:80)", "ip actions=ct(commit,nat(dst=10.0.0.1:80))")]
    [InlineData("ip actions=ct(commit,nat(src=010.0.0.1-010.0.0.2))", "ip actions=ct(commit,nat(src=10.0.0.1-10.0.0.2))")]
    [InlineData("ip actions=ct(commit,zone=5,timeout=short,exec(set_field:0x1->ct_mark),nat(src=1.2.3.4))", "ip actions=ct(commit,zone=5,nat(src=1.2.3.4),timeout=short,exec(set_field:0x1->ct_mark))")]
    [InlineData("ct_state=+est+trk,ip,ct_nw_src=10.0.0.0/8,ct_nw_dst=192.0.2.1,ct_nw_proto=6,ct_tp_src=1000,ct_tp_dst=80 actions=drop", "ct_state=+est+trk,ct_nw_src=10.0.0.0/8,ct_nw_dst=192.0.2.1,ct_nw_proto=6,ct_tp_src=1000,ct_tp_dst=80,ip actions=drop")]
    [InlineData("ct_state=+trk-inv,ipv6,ct_ipv6_src=fd00::/64 actions=drop", "ct_state=-inv+trk,ct_ipv6_src=fd00::/64,ipv6 actions=drop")]
    [InlineData("ct_state=+snat,ct_tp_dst=0x50/0xfff0 actions=drop", "ct_state=+snat,ct_tp_dst=0x50/0xfff0 actions=drop")]
    public void NAT_actions_and_ct_tuple_fields_normalise_as_ovs_ofctl_prints_them(string line, string expected)
    {
        var entry = FlowParser.ParseLine(line);

        Assert.Equal(expected, entry.ToString());
        Assert.Equal(entry, FlowParser.ParseLine(entry.ToString()));
    }

    [Theory]
    [InlineData("ip,ct_nw_src=10.0.0.1 actions=drop", "ct_nw_src: prerequisites not met")]
    [InlineData("ct_state=+trk,ip,ct_nw_src=10.0.0.1 actions=drop", "ct_nw_src: prerequisites not met")]
    [InlineData("ip actions=ct(commit,nat(src=10.0.0.1:))", "invalid nat range")]
    [InlineData("ip actions=ct(commit,nat(src=10.0.0.9-10.0.0.1))", "invalid nat range")]
    [InlineData("ip actions=ct(commit,nat(src=10.0.0.1-10.0.0.5:000-2000,persistent,random))", "invalid nat range \"10.0.0.1-10.0.0.5:000-2000\" (a port range starts at port 1)")]
    [InlineData("ip actions=ct(commit,nat(src=10.0.0.1x))", "garbage (x) after nat range")]
    [InlineData("ip actions=ct(commit,nat(src=10.0.0.1,bogus))", "invalid key \"bogus\" in \"nat\" argument")]
    [InlineData("ip actions=ct(commit,nat:bogus)", "invalid key \"bogus\" in \"nat\" argument")]
    [InlineData("ipv6 actions=ct(commit,nat(src=[fe80::1%1]:80))", "invalid nat range \"[fe80::1%1]:80\"")]
    [InlineData("ip actions=ct(commit,timeout=)", "ct: timeout= needs a policy name")]
    public void Bad_NAT_syntax_is_refused(string line, string message)
    {
        var error = Assert.Throws<FlowSyntaxException>(() => FlowParser.ParseLine(line));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Translation_passes_nat_and_the_timeout_policy_to_ct_and_ct_clear_to_the_datapath()
    {
        var tables = new OpenFlowTables();
        tables.AddFlows(
            """
            table=0, ip, in_port=1, actions=ct(commit,zone=1,nat(src=192.0.2.100:4000-4100,random),timeout=fast),output:2
            table=0, ip, in_port=2, actions=ct_clear,output:1
            """,
            "t.flows");
        var translator = new Translator(tables, new RecircRegistry(), [1, 2]);
        var key = default(FlowKey);
        key.InPort = 1;
        key.EthType = EtherTypes.Ipv4;
        key.NwProto = IpProtocols.Udp;

        var result = translator.Translate(in key);
        var ct = result.Actions.Actions[0].Ct;

        Assert.Equal("fast", ct.TimeoutPolicy);
        Assert.Equal(new NatArgs { Kind = NatKind.Source, HasAddress = true, MinAddress = 0xC0000264, MaxAddress = 0xC0000264, MinPort = 4000, MaxPort = 4100, Flags = NatFlags.Random }, ct.Nat);
        Assert.Equal("ct(commit,zone=1,timeout=fast,nat(src=192.0.2.100:4000-4100,random)),2", DatapathActionText.Format(result.Actions.Actions, in key));

        key.InPort = 2;
        Assert.Equal("ct_clear,1", DatapathActionText.Format(translator.Translate(in key).Actions.Actions, in key));
    }
}
