using Datapath.OpenFlow.Trace;
using Datapath.Packets;

namespace Datapath.Tests.OpenFlow;

/// <summary>
/// ofproto/trace on the firewall, one test per path. The expected text was written from Open
/// vSwitch's formatting rules (ofproto-dpif-trace.c, match_format, format_odp_actions), not
/// copied from this code's output.
/// </summary>
public class TraceGoldenTests
{
    private const string Rule = "===============================================================================";

    private const string TcpFrom1 = "in_port=1,tcp,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tp_src=40000,tp_dst=8080,tcp_flags=syn";
    private const string TcpFrom1Text = "tcp,in_port=1,vlan_tci=0x0000,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=40000,tp_dst=8080,tcp_flags=syn";
    private const string TcpFrom2 = "in_port=2,tcp,dl_src=02:00:00:00:00:02,dl_dst=02:00:00:00:00:01,nw_src=10.0.0.2,nw_dst=10.0.0.1,nw_ttl=64,tp_src=8080,tp_dst=40000,tcp_flags=ack";
    private const string TcpFrom2Text = "tcp,in_port=2,vlan_tci=0x0000,dl_src=02:00:00:00:00:02,dl_dst=02:00:00:00:00:01,nw_src=10.0.0.2,nw_dst=10.0.0.1,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=8080,tp_dst=40000,tcp_flags=ack";

    private static string Trace(string flow, params string[] ctNext)
    {
        var tracer = new Tracer(Firewall.NewTranslator());
        return tracer.Trace(Tracer.ParseFlow(flow), ctNext.Select(Tracer.ParseCtState).ToList());
    }

    private static string FirstPass(string flowText, int port) =>
        $"Flow: {flowText}\n" +
        "\n" +
        "bridge(\"br0\")\n" +
        "-------------\n" +
        " 0. ct_state=-trk,ip, priority 100\n" +
        "    ct(table=1)\n" +
        "    drop\n" +
        "     -> A clone of the packet is forked to recirculate. The forked pipeline will be resumed at table 1.\n" +
        "     -> Sets the packet to an untracked state, and clears all the conntrack fields.\n" +
        "\n" +
        "Final flow: unchanged\n" +
        $"Megaflow: recirc_id=0,ct_state=-trk,eth,ip,in_port={port},nw_frag=no\n" +
        "Datapath actions: ct,recirc(0x1)" +
        "\n\n" + Rule + "\n";

    [Fact]
    public void New_connection_from_port_1_is_committed_and_sent_to_port_2()
    {
        string expected = FirstPass(TcpFrom1Text, 1) +
            "recirc(0x1) - resume conntrack with default ct_state=trk|new (use --ct-next to customize)\n" +
            Rule + "\n\n" +
            "Flow: recirc_id=0x1,ct_state=new|trk,eth," + TcpFrom1Text + "\n" +
            "\n" +
            "bridge(\"br0\")\n" +
            "-------------\n" +
            "    thaw\n" +
            "        Resuming from table 1\n" +
            " 1. ct_state=+new+trk,ip,in_port=1, priority 32768\n" +
            "    ct(commit)\n" +
            "    drop\n" +
            "     -> Sets the packet to an untracked state, and clears all the conntrack fields.\n" +
            "    output:2\n" +
            "\n" +
            "Final flow: recirc_id=0x1,eth," + TcpFrom1Text + "\n" +
            "Megaflow: recirc_id=0x1,ct_state=+new+trk,eth,ip,in_port=1,nw_frag=no\n" +
            "Datapath actions: ct(commit),2";
        Assert.Equal(expected, Trace(TcpFrom1));
    }

    [Fact]
    public void Established_packet_from_port_1_goes_to_port_2()
    {
        string expected = FirstPass(TcpFrom1Text, 1) +
            "recirc(0x1) - resume conntrack with ct_state=est|trk\n" +
            Rule + "\n\n" +
            "Flow: recirc_id=0x1,ct_state=est|trk,eth," + TcpFrom1Text + "\n" +
            "\n" +
            "bridge(\"br0\")\n" +
            "-------------\n" +
            "    thaw\n" +
            "        Resuming from table 1\n" +
            " 1. ct_state=+est+trk,ip,in_port=1, priority 32768\n" +
            "    output:2\n" +
            "\n" +
            "Final flow: unchanged\n" +
            "Megaflow: recirc_id=0x1,ct_state=-new+est+trk,eth,ip,in_port=1,nw_frag=no\n" +
            "Datapath actions: 2";
        Assert.Equal(expected, Trace(TcpFrom1, "trk,est"));
    }

    [Fact]
    public void Established_packet_from_port_2_goes_to_port_1()
    {
        string expected = FirstPass(TcpFrom2Text, 2) +
            "recirc(0x1) - resume conntrack with ct_state=est|rpl|trk\n" +
            Rule + "\n\n" +
            "Flow: recirc_id=0x1,ct_state=est|rpl|trk,eth," + TcpFrom2Text + "\n" +
            "\n" +
            "bridge(\"br0\")\n" +
            "-------------\n" +
            "    thaw\n" +
            "        Resuming from table 1\n" +
            " 1. ct_state=+est+trk,ip,in_port=2, priority 32768\n" +
            "    output:1\n" +
            "\n" +
            "Final flow: unchanged\n" +
            "Megaflow: recirc_id=0x1,ct_state=-new+est+trk,eth,ip,in_port=2,nw_frag=no\n" +
            "Datapath actions: 1";
        Assert.Equal(expected, Trace(TcpFrom2, "+trk+est+rpl"));
    }

    [Fact]
    public void New_connection_from_port_2_is_dropped_after_conntrack()
    {
        string expected = FirstPass(TcpFrom2Text, 2) +
            "recirc(0x1) - resume conntrack with default ct_state=trk|new (use --ct-next to customize)\n" +
            Rule + "\n\n" +
            "Flow: recirc_id=0x1,ct_state=new|trk,eth," + TcpFrom2Text + "\n" +
            "\n" +
            "bridge(\"br0\")\n" +
            "-------------\n" +
            "    thaw\n" +
            "        Resuming from table 1\n" +
            " 1. ct_state=+new+trk,ip,in_port=2, priority 32768\n" +
            "    drop\n" +
            "\n" +
            "Final flow: unchanged\n" +
            "Megaflow: recirc_id=0x1,ct_state=+new+trk,eth,ip,in_port=2,nw_frag=no\n" +
            "Datapath actions: drop";
        Assert.Equal(expected, Trace(TcpFrom2));
    }

    [Fact]
    public void Arp_request_goes_through_normal_and_floods()
    {
        string expected =
            "Flow: arp,in_port=1,vlan_tci=0x0000,dl_src=02:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1,arp_sha=02:00:00:00:00:01,arp_tha=00:00:00:00:00:00\n" +
            "\n" +
            "bridge(\"br0\")\n" +
            "-------------\n" +
            " 0. arp, priority 10\n" +
            "    NORMAL\n" +
            "     -> learned that 02:00:00:00:00:01 is on port 1 in VLAN 0\n" +
            "     -> no learned MAC for destination, flooding\n" +
            "\n" +
            "Final flow: unchanged\n" +
            "Megaflow: recirc_id=0,ct_state=-trk,eth,arp,in_port=1,vlan_tci=0x0000/0x1fff,dl_src=02:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff\n" +
            "Datapath actions: 2";
        Assert.Equal(expected, Trace("in_port=1,arp,dl_src=02:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1,arp_sha=02:00:00:00:00:01"));
    }

    [Fact]
    public void Non_ip_non_arp_frames_hit_the_drop_rule()
    {
        string expected =
            "Flow: in_port=1,vlan_tci=0x0000,dl_src=02:00:00:00:00:01,dl_dst=01:80:c2:00:00:0e,dl_type=0x88cc\n" +
            "\n" +
            "bridge(\"br0\")\n" +
            "-------------\n" +
            " 0. priority 1\n" +
            "    drop\n" +
            "\n" +
            "Final flow: unchanged\n" +
            "Megaflow: recirc_id=0,ct_state=-trk,eth,in_port=1,dl_type=0x88cc\n" +
            "Datapath actions: drop";
        Assert.Equal(expected, Trace("in_port=1,dl_type=0x88cc,dl_src=02:00:00:00:00:01,dl_dst=01:80:c2:00:00:0e"));
    }

    [Fact]
    public void Ipv6_is_dropped_because_ip_means_ipv4()
    {
        string expected =
            "Flow: tcp6,in_port=1,vlan_tci=0x0000,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,ipv6_src=fd00::1,ipv6_dst=fd00::2,ipv6_label=0x00000,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=40000,tp_dst=8080,tcp_flags=syn\n" +
            "\n" +
            "bridge(\"br0\")\n" +
            "-------------\n" +
            " 0. priority 1\n" +
            "    drop\n" +
            "\n" +
            "Final flow: unchanged\n" +
            "Megaflow: recirc_id=0,ct_state=-trk,eth,ipv6,in_port=1,nw_frag=no\n" +
            "Datapath actions: drop";
        Assert.Equal(expected, Trace("in_port=1,tcp6,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,ipv6_src=fd00::1,ipv6_dst=fd00::2,nw_ttl=64,tp_src=40000,tp_dst=8080,tcp_flags=syn"));
    }

    [Fact]
    public void A_packet_in_hex_traces_like_its_flow_and_the_trace_releases_its_recirculation_ids()
    {
        var translator = Firewall.NewTranslator();
        var tracer = new Tracer(translator);
        // Ethernet + IPv4 + ICMP echo request from h1 to h2.
        string hex = "02000000000202000000000108004500001c000040004001267b0a0000010a000002" + "0800f7ff00000000";
        string text = tracer.Trace(Tracer.ParsePacket(hex, 1));
        Assert.True(text.StartsWith("Flow: icmp,in_port=1,vlan_tci=0x0000,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,icmp_type=8,icmp_code=0\n", StringComparison.Ordinal), text);
        Assert.EndsWith("Datapath actions: ct(commit),2", text, StringComparison.Ordinal);
        Assert.Equal(0, translator.Recirc.Count);
    }

    [Fact]
    public void Unknown_ct_next_flags_are_rejected()
    {
        Assert.Throws<FormatException>(() => Tracer.ParseCtState("trk,bogus"));
        Assert.Equal(CtState.Tracked | CtState.Established, Tracer.ParseCtState("trk,est"));
    }
}
