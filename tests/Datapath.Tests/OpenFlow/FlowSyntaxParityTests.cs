using Datapath.Actions;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.OpenFlow.Wire;
using Datapath.Packets;
using Datapath.Tests.Support;

namespace Datapath.Tests.OpenFlow;

/// <summary>
/// ovs-ofctl's flow syntax under every name of ovs-fields(7) and ovs-actions(7) for what the
/// pipeline does, and named refusals for what it does not.
/// </summary>
public sealed class FlowSyntaxParityTests
{
    /// <summary>Every flow Open vSwitch 3.1 printed in the recorded ovs-ofctl session (OpenFlow 1.0 and 1.3) reads back to the same text here.</summary>
    [Fact]
    public void Every_flow_open_vswitch_printed_in_the_recorded_session_parses_and_prints_back_the_same()
    {
        var lines = File.ReadAllLines(Path.Combine(TestData.Root, "openflow", "ofctl-session.expected"))
            .Where(l => l.StartsWith(' ') && l.Contains("actions=", StringComparison.Ordinal)).Select(l => l.Trim()).Distinct().ToArray();
        Assert.True(lines.Length >= 12, $"{lines.Length} flows");
        foreach (string line in lines)
        {
            Assert.Equal(line, FlowParser.ParseLine(line).ToString());
        }
    }

    [Theory]
    [InlineData("ip,ip_dscp=46 actions=drop", "ip,nw_tos=184 actions=drop")]
    [InlineData("ip,nw_tos=184 actions=set_field:46->ip_dscp", "ip,nw_tos=184 actions=set_field:46->ip_dscp")]
    [InlineData("vlan_vid=0x1064/0x1fff,vlan_pcp=3 actions=drop", "dl_vlan=100,dl_vlan_pcp=3 actions=drop")]
    [InlineData("in_port_oxm=3,dl_src=00:00:00:00:00:01,ip,ip_proto=6,ip_ecn=1,ip_frag=no actions=drop", "tcp,in_port=3,dl_src=00:00:00:00:00:01,nw_ecn=1,nw_frag=no actions=drop")]
    [InlineData("xreg0=0x100000002 actions=drop", "reg0=0x1,reg1=0x2 actions=drop")]
    [InlineData("xxreg1=0x1/0xff actions=drop", "reg7=0x1/0xff actions=drop")]
    public void Fields_are_accepted_under_each_of_their_names(string text, string printed)
    {
        Assert.Equal(printed, FlowParser.ParseLine(text).ToString());
    }

    [Theory]
    [InlineData("actions=controller", "actions=CONTROLLER:65535")]
    [InlineData("actions=controller:128", "actions=CONTROLLER:128")]
    [InlineData("actions=controller(reason=no_match,max_len=64)", "actions=controller(reason=no_match,max_len=64)")]
    [InlineData("actions=controller(id=3)", "actions=controller(id=3)")]
    [InlineData("actions=output:controller", "actions=CONTROLLER:65535")]
    [InlineData("arp actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],move:reg0[0..15]->reg1[16..31],exit", "arp actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],move:NXM_NX_REG0[0..15]->NXM_NX_REG1[16..31],exit")]
    [InlineData("ip actions=mod_nw_ttl:9,mod_vlan_pcp:3,set_field:4196->vlan_vid,set_field:5->vlan_pcp", "ip actions=mod_nw_ttl:9,mod_vlan_pcp:3,set_field:4196->vlan_vid,set_field:5->vlan_pcp")]
    [InlineData("table=1,actions=write_metadata:0x5/0xff,goto_table:2", "table=1, actions=write_metadata:0x5/0xff,goto_table:2")]
    [InlineData("send_flow_rem,check_overlap,priority=3,ip actions=drop", "send_flow_rem check_overlap priority=3,ip actions=drop")]
    public void Actions_and_flags_print_as_ovs_ofctl_prints_them(string text, string printed)
    {
        Assert.Equal(printed, FlowParser.ParseLine(text).ToString());
    }

    [Theory]
    [InlineData("tun_id=5 actions=drop", "tunnel fields are not supported")]
    [InlineData("reg9=1 actions=drop", "this switch has registers reg0..reg7")]
    [InlineData("pkt_mark=1 actions=drop", "packet marks are not supported")]
    [InlineData("actions=group:1", "no groups")]
    [InlineData("actions=enqueue:1:2", "no queues")]
    [InlineData("actions=learn(table=1)", "not supported by this switch")]
    [InlineData("actions=local", "no LOCAL port")]
    [InlineData("actions=conjunction(1,1/2)", "no conjunctive matches")]
    [InlineData("actions=set_field:1->tun_id", "tunnel fields are not supported")]
    [InlineData("actions=set_field:100->vlan_vid", "needs the present bit 0x1000")]
    [InlineData("ip actions=write_metadata:0x1,output:2", "write_metadata must come after every other action but goto_table")]
    public void What_the_pipeline_does_not_do_is_refused_with_the_reason(string text, string reason)
    {
        var e = Assert.Throws<FlowSyntaxException>(() => FlowParser.ParseLine(text));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Set_field_to_ip_dscp_rewrites_the_tos_byte_in_the_datapath()
    {
        var tables = new OpenFlowTables();
        tables.AddFlows("ip actions=set_field:46->ip_dscp,output:2", "dscp");
        var result = new Translator(tables, new RecircRegistry(), [1, 2]).Translate(Packets.Tcp(1, 1, 2, 3, 4));

        var set = Assert.Single(result.Actions.Actions.ToArray(), a => a.Kind == ActionKind.SetField);
        Assert.Equal((SetFieldTarget.NwTos, (UInt128)184, (UInt128)0xfc), (set.Set.Target, set.Set.Value, set.Set.Mask));
    }

    [Fact]
    public void A_controller_action_becomes_a_userspace_action_whose_userdata_says_reason_table_cookie_and_registers()
    {
        var tables = new OpenFlowTables();
        tables.AddFlows("table=0,priority=0 actions=controller:128\ntable=0,priority=5,ip actions=load:0x7->NXM_NX_REG3[],resubmit(,1)\ntable=1,cookie=0x42,ip actions=controller(reason=invalid_ttl,max_len=64),output:2", "controller");
        var translator = new Translator(tables, new RecircRegistry(), [1, 2]);

        var ip = translator.Translate(Packets.Tcp(1, 1, 2, 3, 4)).Actions.Actions.ToArray();
        Assert.Equal([ActionKind.Userspace, ActionKind.Output], ip.Select(a => a.Kind));
        Assert.True(translator.Controllers.TryGet(ip[0].UserspaceCookie, out var userdata));
        Assert.Equal((PacketInReason.InvalidTtl, (ushort)64, (byte)1, 0x42UL, 7u), (userdata.Reason, userdata.MaxLength, userdata.Table, userdata.Cookie, userdata.Registers[3]));

        // The table-miss flow (priority 0, matching everything) reports no_match, as OpenFlow 1.3 says.
        var arp = translator.Translate(Packets.Arp(1, 0x0200_0000_0001, 0xffff_ffff_ffff)).Actions.Actions.ToArray();
        Assert.True(translator.Controllers.TryGet(Assert.Single(arp).UserspaceCookie, out var miss));
        Assert.Equal(PacketInReason.NoMatch, miss.Reason);
    }

    [Fact]
    public void While_misses_go_to_the_controllers_a_pass_that_misses_sends_a_no_match_packet_in_and_a_resubmit_that_misses_does_not()
    {
        var tables = new OpenFlowTables();
        tables.AddFlows("table=0,priority=5,ip actions=resubmit(,3),output:2", "miss");
        var translator = new Translator(tables, new RecircRegistry(), [1, 2]);
        Assert.Empty(translator.Translate(Packets.Arp(1, 0x0200_0000_0001, 0xffff_ffff_ffff)).Actions.Actions.ToArray());

        long version = tables.Version;
        tables.MissToController = true;
        Assert.True(tables.Version > version, "cached translations must be revalidated");

        var arp = Assert.Single(translator.Translate(Packets.Arp(1, 0x0200_0000_0001, 0xffff_ffff_ffff)).Actions.Actions.ToArray());
        Assert.Equal(ActionKind.Userspace, arp.Kind);
        Assert.True(translator.Controllers.TryGet(arp.UserspaceCookie, out var miss));
        Assert.Equal((PacketInReason.NoMatch, true, (byte)0), (miss.Reason, miss.TableMiss, miss.Table));

        // resubmit(,3) finds nothing in table 3: that is no table miss (Open vSwitch's honor_table_miss).
        Assert.Equal([ActionKind.Output], translator.Translate(Packets.Tcp(1, 1, 2, 3, 4)).Actions.Actions.ToArray().Select(a => a.Kind));
    }

    [Fact]
    public void Exit_stops_every_table_and_move_reads_its_source_into_the_megaflow_mask()
    {
        var tables = new OpenFlowTables();
        tables.AddFlows("table=0,ip actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[],resubmit(,1),output:1\ntable=1,reg0=0x1 actions=output:2,exit\ntable=1,priority=0 actions=output:3", "exit");
        var translator = new Translator(tables, new RecircRegistry(), [1, 2, 3, 4]);

        var fromOne = translator.Translate(Packets.Tcp(4, 1, 2, 3, 4));
        Assert.Equal([2u], fromOne.Actions.Actions.ToArray().Select(a => a.Port));
        Assert.Equal(uint.MaxValue, fromOne.Mask.NwSrc);

        var fromOther = translator.Translate(Packets.Tcp(4, 9, 2, 3, 4));
        Assert.Equal([3u, 1u], fromOther.Actions.Actions.ToArray().Select(a => a.Port));
    }
}
