using Datapath.Flow;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Tables;
using Datapath.Packets;

namespace Datapath.Tests.OpenFlow;

public class FlowSyntaxTests
{
    [Fact]
    public void Firewall_dumps_back_in_ovs_ofctl_normalised_form()
    {
        var clock = new ManualClock();
        var tables = new OpenFlowTables(clock);
        tables.AddFlows(Firewall.Text, "firewall.flows");
        clock.Advance(TimeSpan.FromMilliseconds(1234));

        string expected =
            " cookie=0x0, duration=1.234s, table=0, n_packets=0, n_bytes=0, priority=100,ct_state=-trk,ip actions=ct(table=1)\n" +
            " cookie=0x0, duration=1.234s, table=0, n_packets=0, n_bytes=0, priority=10,arp actions=NORMAL\n" +
            " cookie=0x0, duration=1.234s, table=0, n_packets=0, n_bytes=0, priority=1 actions=drop\n" +
            " cookie=0x0, duration=1.234s, table=1, n_packets=0, n_bytes=0, ct_state=+new+trk,ip,in_port=1 actions=ct(commit),output:2\n" +
            " cookie=0x0, duration=1.234s, table=1, n_packets=0, n_bytes=0, ct_state=+new+trk,ip,in_port=2 actions=drop\n" +
            " cookie=0x0, duration=1.234s, table=1, n_packets=0, n_bytes=0, ct_state=+est+trk,ip,in_port=1 actions=output:2\n" +
            " cookie=0x0, duration=1.234s, table=1, n_packets=0, n_bytes=0, ct_state=+est+trk,ip,in_port=2 actions=output:1\n";
        Assert.Equal(expected, tables.DumpFlows());
    }

    [Fact]
    public void Dump_without_stats_omits_default_table_and_cookie()
    {
        var tables = new OpenFlowTables(new ManualClock());
        tables.AddFlows("table=0,priority=5,cookie=0x1f,ip actions=drop\ntable=3,in_port=2 actions=NORMAL", "f");
        Assert.Equal(" cookie=0x1f, priority=5,ip actions=drop\n table=3, in_port=2 actions=NORMAL\n", tables.DumpFlows(withStats: false));
    }

    [Fact]
    public void Dumped_flows_parse_back_to_the_same_flows()
    {
        var tables = new OpenFlowTables(new ManualClock());
        var original = FlowParser.ParseFile(Firewall.Text, "firewall.flows");
        tables.Add(original);
        var reparsed = FlowParser.ParseFile(tables.DumpFlows(), "dump");
        Assert.Equal(original, reparsed);
    }

    [Theory]
    [InlineData("tcp,tp_dst=80 actions=output:1", "tcp,tp_dst=80 actions=output:1")]
    [InlineData("priority=32768,udp6,udp_src=53 actions=drop", "udp6,tp_src=53 actions=drop")]
    [InlineData("ip,nw_src=10.0.0.0/8,nw_dst=10.1.2.3/255.255.0.255 actions=drop", "ip,nw_src=10.0.0.0/8,nw_dst=10.1.0.3/255.255.0.255 actions=drop")]
    [InlineData("ipv6,ipv6_src=fd00::/16 actions=drop", "ipv6,ipv6_src=fd00::/16 actions=drop")]
    [InlineData("dl_src=01:00:00:00:00:00/01:00:00:00:00:00,dl_dst=AA:bb:cc:dd:ee:ff actions=drop", "dl_src=01:00:00:00:00:00/01:00:00:00:00:00,dl_dst=aa:bb:cc:dd:ee:ff actions=drop")]
    [InlineData("dl_vlan=10,dl_vlan_pcp=3 actions=pop_vlan,output:2", "dl_vlan=10,dl_vlan_pcp=3 actions=pop_vlan,output:2")]
    [InlineData("vlan_tci=0x1000/0x1000 actions=strip_vlan", "vlan_tci=0x1000/0x1000 actions=strip_vlan")]
    [InlineData("tcp,tcp_flags=+syn-ack actions=drop", "tcp,tcp_flags=+syn-ack actions=drop")]
    [InlineData("ct_state=+est-rel+trk,ct_zone=5,ct_mark=0x1/0x3,ct_label=0x10 actions=drop", "ct_state=+est-rel+trk,ct_zone=5,ct_mark=0x1/0x3,ct_label=0x10 actions=drop")]
    [InlineData("reg3=0x5/0xff,metadata=0x10,in_port=7 actions=resubmit(,2)", "reg3=0x5/0xff,metadata=0x10,in_port=7 actions=resubmit(,2)")]
    [InlineData("icmp,icmp_type=8,icmp_code=0 actions=in_port", "icmp,icmp_type=8,icmp_code=0 actions=IN_PORT")]
    [InlineData("icmp6,icmp_type=135,nd_target=fd00::1,nd_sll=02:00:00:00:00:01 actions=drop", "icmp6,icmp_type=135,nd_target=fd00::1,nd_sll=02:00:00:00:00:01 actions=drop")]
    [InlineData("arp,nw_src=10.0.0.1,arp_op=1,arp_sha=02:00:00:00:00:01 actions=FLOOD", "arp,arp_spa=10.0.0.1,arp_op=1,arp_sha=02:00:00:00:00:01 actions=FLOOD")]
    [InlineData("ip,ip_frag=later,nw_tos=8,nw_ecn=1,nw_ttl=3 actions=dec_ttl,ALL", "ip,nw_tos=8,nw_ecn=1,nw_ttl=3,nw_frag=later actions=dec_ttl,ALL")]
    [InlineData("ip actions=ct(commit,zone=NXM_NX_REG0[0..15],table=3,exec(set_field:0x1->ct_mark,set_field:0x2/0x3->ct_label))", "ip actions=ct(commit,table=3,zone=NXM_NX_REG0[0..15],exec(set_field:0x1->ct_mark,set_field:0x2/0x3->ct_label))")]
    [InlineData("ip actions=load:0x5->NXM_NX_REG1[4..7],load:1->OXM_OF_METADATA[],set_field:10.0.0.9->nw_src", "ip actions=load:0x5->NXM_NX_REG1[4..7],load:0x1->OXM_OF_METADATA[],set_field:10.0.0.9->ip_src")]
    [InlineData("tcp actions=mod_dl_src:02:00:00:00:00:09,mod_nw_dst:1.2.3.4,mod_nw_tos:16,mod_tp_src:99,mod_tp_dst:100,2", "tcp actions=mod_dl_src:02:00:00:00:00:09,mod_nw_dst:1.2.3.4,mod_nw_tos:16,mod_tp_src:99,mod_tp_dst:100,output:2")]
    [InlineData("table=2, hard_timeout=30, idle_timeout=10, actions=push_vlan:0x8100,mod_vlan_vid:5,note:01.02,goto_table:4", "table=2, idle_timeout=10, hard_timeout=30, actions=push_vlan:0x8100,mod_vlan_vid:5,note:01.02,goto_table:4")]
    [InlineData("actions=ct_clear,resubmit:3,resubmit(4,5)", "actions=ct_clear,resubmit(3,),resubmit(4,5)")]
    [InlineData("dl_type=0x88cc actions=drop", "dl_type=0x88cc actions=drop")]
    [InlineData("tcp,tcp_flags=0xfff actions=drop", "tcp,tcp_flags=fin|syn|rst|psh|ack|urg|ece|cwr|ns|[200]|[400]|[800] actions=drop")]
    [InlineData("tcp,tcp_flags=0x201/0x201 actions=drop", "tcp,tcp_flags=+fin+[200] actions=drop")]
    public void Lines_normalise_as_ovs_ofctl_prints_them(string line, string expected)
    {
        var entry = FlowParser.ParseLine(line);
        Assert.Equal(expected, entry.ToString());
        Assert.Equal(entry, FlowParser.ParseLine(entry.ToString()));
    }

    [Fact]
    public void Comments_and_blank_lines_are_ignored()
    {
        var entries = FlowParser.ParseFile("# a comment\n\n   \n  # indented\nin_port=1 actions=output:2\n", "f");
        Assert.Single(entries);
    }

    [Fact]
    public void Matching_fields_end_up_in_the_datapath_key_layout()
    {
        var entry = FlowParser.ParseLine("tcp,in_port=3,nw_src=10.0.0.1,tp_dst=443,ct_state=+est+trk actions=drop");
        var key = default(FlowKey);
        key.InPort = 3;
        key.EthType = EtherTypes.Ipv4;
        key.NwProto = IpProtocols.Tcp;
        key.NwSrc = 0x0A000001;
        key.TpDst = 443;
        key.CtState = CtState.Established | CtState.Tracked;
        Assert.True(entry.Match.Matches(new OfFlow(in key)));
        key.CtState = CtState.New | CtState.Tracked;
        Assert.False(entry.Match.Matches(new OfFlow(in key)));
    }

    [Fact]
    public void Random_valid_flows_survive_dump_and_parse()
    {
        var random = new Random(1234);
        for (int i = 0; i < 2000; i++)
        {
            string line = RandomFlows.Line(random);
            var entry = FlowParser.ParseLine(line);
            string dumped = FlowDumpFormatter.FormatWithStats(entry, random.Next(1000), random.Next(100000), TimeSpan.FromMilliseconds(random.Next(100000)));
            var again = FlowParser.ParseLine(dumped);
            Assert.True(entry.Equals(again), $"{line}\n{dumped}\n{again}");
            Assert.Equal(entry.ToString(), again.ToString());
        }
    }
}
