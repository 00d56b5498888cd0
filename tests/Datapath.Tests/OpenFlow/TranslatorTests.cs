using Datapath.Actions;
using Datapath.Flow;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets;

namespace Datapath.Tests.OpenFlow;

public class TranslatorTests
{
    private static FlowKey Mask(Action<Ref> build)
    {
        var r = new Ref();
        build(r);
        return r.Key;
    }

    private sealed class Ref
    {
        public FlowKey Key;
    }

    [Fact]
    public void Established_ipv4_from_port_1_shares_one_megaflow_per_pass_whatever_the_addresses()
    {
        var x = Firewall.NewTranslator();
        var first = x.Translate(Packets.Tcp(1, 0x0A000001, 0x0A000002, 40000, 80));
        var other = x.Translate(Packets.Tcp(1, 0xC0A80101, 0x08080808, 1234, 443));

        var pass1 = Mask(r =>
        {
            r.Key.RecircId = uint.MaxValue;
            r.Key.InPort = uint.MaxValue;
            r.Key.CtState = CtState.Tracked;
            r.Key.EthType = ushort.MaxValue;
            r.Key.NwFrag = FlowKey.FragAny | FlowKey.FragLater;
        });
        Assert.Equal(pass1, first.Mask);
        Assert.Equal(pass1, other.Mask);
        Assert.Equal("ct_state(-trk),recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(frag=no)", FlowFormatter.Format(Packets.Tcp(1, 1, 2, 3, 4), first.Mask));
        uint id = first.Actions[1].RecircId;
        Assert.Equal([DatapathAction.Conntrack(new ConntrackArgs()), DatapathAction.Recirculate(id)], first.Actions.Actions.ToArray());
        Assert.Equal(id, other.Actions[1].RecircId);

        var est = x.Translate(Packets.Tcp(1, 0x0A000001, 0x0A000002, 40000, 80, CtState.Established | CtState.Tracked, id));
        var est2 = x.Translate(Packets.Tcp(1, 0x01020304, 0x05060708, 9, 10, CtState.Established | CtState.Tracked | CtState.Reply, id));
        var pass2 = pass1;
        pass2.CtState = CtState.New | CtState.Established | CtState.Tracked;
        Assert.Equal(pass2, est.Mask);
        Assert.Equal(pass2, est2.Mask);
        Assert.Equal("ct_state(-new+est+trk),recirc_id(0x1),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(frag=no)", FlowFormatter.Format(Packets.Tcp(1, 1, 2, 3, 4, CtState.Established | CtState.Tracked, 1), est.Mask));
        Assert.Equal([DatapathAction.Output(2)], est.Actions.Actions.ToArray());
    }

    [Fact]
    public void New_connections_commit_from_port_1_and_drop_from_port_2()
    {
        var x = Firewall.NewTranslator();
        uint id = x.Translate(Packets.Tcp(1, 1, 2, 3, 4)).Actions[1].RecircId;
        var fromInside = x.Translate(Packets.Tcp(1, 1, 2, 3, 4, CtState.New | CtState.Tracked, id));
        Assert.Equal([DatapathAction.Conntrack(new ConntrackArgs { Commit = true }), DatapathAction.Output(2)], fromInside.Actions.Actions.ToArray());
        var fromOutside = x.Translate(Packets.Tcp(2, 2, 1, 4, 3, CtState.New | CtState.Tracked, id));
        Assert.Equal(0, fromOutside.Actions.Count);
        Assert.Equal("ct_state=+new+trk,ip,in_port=2", Assert.Single(fromOutside.Rules).Entry.Match.ToString());
    }

    [Fact]
    public void Recirculation_ids_are_shared_reference_counted_freed_and_reused()
    {
        var x = Firewall.NewTranslator();
        var a = x.Translate(Packets.Tcp(1, 1, 2, 3, 4));
        var b = x.Translate(Packets.Tcp(2, 2, 1, 4, 3));
        uint id = a.Actions[1].RecircId;
        Assert.Equal(id, b.Actions[1].RecircId);
        Assert.Equal(2, x.Recirc.References(id));

        x.Recirc.ReleaseAll(a.Actions);
        Assert.Equal(1, x.Recirc.References(id));
        x.Recirc.ReleaseAll(b.Actions);
        Assert.Equal(0, x.Recirc.References(id));
        Assert.Equal(0, x.Recirc.Count);

        var gone = x.Translate(Packets.Tcp(1, 1, 2, 3, 4, CtState.Established | CtState.Tracked, id));
        Assert.True(gone.UnknownRecirculation);
        Assert.Contains("unknown", gone.Error, StringComparison.Ordinal);
        Assert.Equal(0, gone.Actions.Count);
        Assert.False(x.Upcall(Packets.Tcp(1, 1, 2, 3, 4, CtState.Established | CtState.Tracked, id), new Packet(), out _, out _));

        var again = x.Translate(Packets.Tcp(1, 1, 2, 3, 4));
        Assert.Equal(id, again.Actions[1].RecircId);
    }

    [Fact]
    public void Registers_and_metadata_travel_in_the_continuation_and_zone_comes_from_a_register()
    {
        var tables = new OpenFlowTables(new ManualClock());
        tables.AddFlows(
            "ip actions=set_field:0x2a->reg1,load:0x7->OXM_OF_METADATA[],ct(zone=NXM_NX_REG1[0..15],table=3)\n" +
            "table=3,ip,reg1=0x2a,metadata=0x7 actions=output:9\n" +
            "table=3,ip actions=drop\n", "f");
        var x = new Translator(tables, new RecircRegistry(), [1, 9]);
        var first = x.Translate(Packets.Tcp(1, 1, 2, 3, 4));
        Assert.Equal(42, first.Actions[0].Ct.Zone);
        uint id = first.Actions[1].RecircId;
        Assert.Equal((uint)0x2a, first.FinalFlow.Regs[1]);

        var resumed = x.Translate(Packets.Tcp(1, 1, 2, 3, 4, CtState.Tracked | CtState.Established, id));
        Assert.Equal([DatapathAction.Output(9)], resumed.Actions.Actions.ToArray());
        Assert.Equal((uint)0x2a, resumed.InitialFlow.Regs[1]);
        Assert.Equal(7UL, resumed.InitialFlow.Metadata);
    }

    [Fact]
    public void Output_to_the_input_port_is_dropped_but_the_in_port_action_sends_there()
    {
        var tables = new OpenFlowTables(new ManualClock());
        tables.AddFlows("in_port=1 actions=output:1,output:2,IN_PORT", "f");
        var x = new Translator(tables, new RecircRegistry(), [1, 2]);
        var r = x.Translate(Packets.Tcp(1, 1, 2, 3, 4));
        Assert.Equal([DatapathAction.Output(2), DatapathAction.Output(1)], r.Actions.Actions.ToArray());
    }

    [Fact]
    public void Resubmit_loops_stop_at_depth_64_with_a_reason_and_drop()
    {
        var tables = new OpenFlowTables(new ManualClock());
        tables.AddFlows("actions=output:2,resubmit(,0)", "f");
        var x = new Translator(tables, new RecircRegistry(), [1, 2]);
        var r = x.Translate(Packets.Tcp(1, 1, 2, 3, 4));
        Assert.Equal(0, r.Actions.Count);
        Assert.Contains("resubmit depth exceeded (64)", r.Error, StringComparison.Ordinal);
        Assert.Equal(Translator.MaxResubmitDepth + 1, r.Rules.Count);
    }

    [Fact]
    public void Resubmit_with_a_port_looks_up_as_if_from_that_port_then_restores_it()
    {
        var tables = new OpenFlowTables(new ManualClock());
        tables.AddFlows("table=0,in_port=1 actions=resubmit(3,1),output:2\ntable=1,in_port=3 actions=output:4", "f");
        var x = new Translator(tables, new RecircRegistry(), [1, 2, 3, 4]);
        Assert.Equal([DatapathAction.Output(4), DatapathAction.Output(2)], x.Translate(Packets.Tcp(1, 1, 2, 3, 4)).Actions.Actions.ToArray());
    }

    [Fact]
    public void Header_writes_become_masked_sets_before_output_and_read_nothing()
    {
        var tables = new OpenFlowTables(new ManualClock());
        tables.AddFlows("tcp actions=mod_nw_dst:10.9.9.9,load:0x5->NXM_OF_TCP_DST[0..3],mod_dl_src:02:00:00:00:00:09,output:2,dec_ttl,output:3", "f");
        var x = new Translator(tables, new RecircRegistry(), [1, 2, 3]);
        var r = x.Translate(Packets.Tcp(1, 1, 2, 3, 0xfff0));
        DatapathAction[] expected =
        [
            DatapathAction.SetField(new SetFieldArgs(SetFieldTarget.EthSrc, 0x02_00_00_00_00_09, 0xFFFF_FFFF_FFFF)),
            DatapathAction.SetField(new SetFieldArgs(SetFieldTarget.Ipv4Dst, 0x0A090909, uint.MaxValue)),
            DatapathAction.SetField(new SetFieldArgs(SetFieldTarget.TpDst, 0x5, 0xf)),
            DatapathAction.Output(2),
            DatapathAction.SetField(new SetFieldArgs(SetFieldTarget.NwTtl, 63, 0xff)),
            DatapathAction.Output(3),
        ];
        Assert.Equal(expected, r.Actions.Actions.ToArray());
        Assert.Equal(0u, r.Mask.NwDst);
        Assert.Equal((ushort)0, r.Mask.TpDst);
        Assert.Equal(byte.MaxValue, r.Mask.NwTtl);
    }

    [Fact]
    public void Vlan_actions_pop_and_push_tags_as_the_datapath_needs()
    {
        var tables = new OpenFlowTables(new ManualClock());
        tables.AddFlows("in_port=1 actions=mod_vlan_vid:10,output:2\nin_port=2 actions=pop_vlan,output:1", "f");
        var x = new Translator(tables, new RecircRegistry(), [1, 2]);
        Assert.Equal([DatapathAction.PushVlan(EtherTypes.Vlan8021Q, 10), DatapathAction.Output(2)], x.Translate(Packets.Tcp(1, 1, 2, 3, 4)).Actions.Actions.ToArray());
        var tagged = Packets.Tcp(2, 1, 2, 3, 4);
        tagged.Vlan0Tci = 10 | FlowKey.VlanPresent;
        tagged.Vlan0Tpid = EtherTypes.Vlan8021Q;
        var r = x.Translate(tagged);
        Assert.Equal([DatapathAction.PopVlan(), DatapathAction.Output(1)], r.Actions.Actions.ToArray());
        Assert.Equal(ulong.MaxValue, r.Mask[6]);
    }

    [Fact]
    public void Goto_table_continues_in_the_later_table()
    {
        var tables = new OpenFlowTables(new ManualClock());
        tables.AddFlows("actions=set_field:0x1->reg0,goto_table:5\ntable=5,reg0=0x1 actions=output:3", "f");
        var x = new Translator(tables, new RecircRegistry(), [1, 3]);
        Assert.Equal([DatapathAction.Output(3)], x.Translate(Packets.Tcp(1, 1, 2, 3, 4)).Actions.Actions.ToArray());
    }

    [Fact]
    public void Upcall_credits_the_rules_of_both_passes_and_stats_show_in_dumps()
    {
        var clock = new ManualClock();
        var x = Firewall.NewTranslator(clock);
        var packet = new Packet();
        packet.SetFrame(new byte[60], 1);
        Assert.True(x.Upcall(Packets.Tcp(1, 1, 2, 3, 4), packet, out _, out var actions));
        Assert.True(x.Upcall(Packets.Tcp(1, 1, 2, 3, 4, CtState.Established | CtState.Tracked, actions[1].RecircId), packet, out _, out _));
        var rules = x.Tables.AllRules().ToList();
        Assert.Equal(1, rules[0].Packets);
        Assert.Equal(60, rules[0].Bytes);
        Assert.Equal(1, rules[5].Packets);
        Assert.Equal(0, rules[3].Packets);

        var result = x.Translate(Packets.Tcp(1, 1, 2, 3, 4, CtState.Established | CtState.Tracked, actions[1].RecircId));
        x.Tables.Credit(result.Rules, 10, 1000);
        Assert.Equal(11, rules[5].Packets);
        Assert.Contains("table=1, n_packets=11, n_bytes=1060, ct_state=+est+trk,ip,in_port=1 actions=output:2", x.Tables.DumpFlows(), StringComparison.Ordinal);
    }

    [Fact]
    public void Idle_and_hard_timeouts_expire_rules_by_the_injected_clock()
    {
        var clock = new ManualClock();
        var tables = new OpenFlowTables(clock);
        tables.AddFlows("in_port=1,idle_timeout=10 actions=output:2\nin_port=2,hard_timeout=30 actions=output:1\nin_port=3 actions=drop", "f");
        var idle = tables.AllRules().First(r => r.Entry.IdleTimeout != 0);
        var hard = tables.AllRules().First(r => r.Entry.HardTimeout != 0);
        clock.Advance(TimeSpan.FromSeconds(8));
        tables.Credit([idle, hard], 1, 100);
        clock.Advance(TimeSpan.FromSeconds(8));
        Assert.Empty(tables.Expire());

        clock.Advance(TimeSpan.FromSeconds(3));
        var first = Assert.Single(tables.Expire());
        Assert.Equal(new RemovedRule(idle, RuleRemovalReason.IdleTimeout), first);
        Assert.True(idle.Removed);

        clock.Advance(TimeSpan.FromSeconds(12));
        Assert.Equal(new RemovedRule(hard, RuleRemovalReason.HardTimeout), Assert.Single(tables.Expire()));
        Assert.Equal(1, tables.Count);
    }

    [Fact]
    public void A_flow_with_the_same_table_priority_and_match_replaces_the_old_one()
    {
        var tables = new OpenFlowTables(new ManualClock());
        tables.AddFlows("in_port=1 actions=output:2", "a");
        long before = tables.Version;
        tables.AddFlows("in_port=1 actions=output:3", "b");
        var rule = Assert.Single(tables.AllRules());
        Assert.Equal(new OutputAction(3), rule.Entry.Actions[0]);
        Assert.True(tables.Version > before);
    }

    [Fact]
    public void Highest_priority_wins_and_a_table_miss_drops()
    {
        var tables = new OpenFlowTables(new ManualClock());
        tables.AddFlows("priority=1,tcp actions=output:2\npriority=9,tcp,tp_dst=80 actions=output:3", "f");
        var x = new Translator(tables, new RecircRegistry(), [1, 2, 3]);
        Assert.Equal([DatapathAction.Output(3)], x.Translate(Packets.Tcp(1, 1, 2, 5, 80)).Actions.Actions.ToArray());
        Assert.Equal([DatapathAction.Output(2)], x.Translate(Packets.Tcp(1, 1, 2, 5, 81)).Actions.Actions.ToArray());
        Assert.Equal(0, x.Translate(Packets.Arp(1, Packets.H1, ulong.MaxValue >> 16)).Actions.Count);
    }
}
