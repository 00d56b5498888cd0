using System.Text;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Tests.Flow;

/// <summary>
/// Golden strings written by hand from Open vSwitch's rules (lib/odp-util.c odp_flow_format and
/// odp_flow_key_from_flow): attribute order ct_* , recirc_id, in_port, packet_type, eth, vlan/encap,
/// eth_type, L3, L4; zero-masked attributes and fields left out; partial masks as value/mask.
/// </summary>
public sealed class FlowFormatterTests
{
    private const ulong H1Mac = 0x02_00_00_00_00_01;
    private const ulong H2Mac = 0x02_00_00_00_00_02;
    private const uint H1Ip = 0x0a_00_00_01; // 10.0.0.1
    private const uint H2Ip = 0x0a_00_00_02; // 10.0.0.2
    private static readonly UInt128 Fd00_1 = new(0xfd00_0000_0000_0000, 1);
    private static readonly UInt128 Fd00_2 = new(0xfd00_0000_0000_0000, 2);

    [Fact]
    public void The_firewall_table_0_megaflow_matches_only_trk_port_and_ip()
    {
        var key = Ipv4Key(IpProtocols.Tcp);
        var mask = MetadataMask();
        mask.CtState = CtState.Tracked;
        mask.EthType = 0xffff;
        mask.NwFrag = FlowKey.FragAny | FlowKey.FragLater;

        Assert.Equal(
            "ct_state(-trk),recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(frag=no)",
            FlowFormatter.Format(FlowKey.And(key, mask), mask));
    }

    [Fact]
    public void The_firewall_table_1_megaflow_after_recirculation_shows_new_est_and_trk()
    {
        var key = Ipv4Key(IpProtocols.Tcp);
        key.RecircId = 1;
        key.CtState = CtState.Established | CtState.Tracked;
        var mask = MetadataMask();
        mask.CtState = CtState.New | CtState.Established | CtState.Tracked;
        mask.EthType = 0xffff;
        mask.NwFrag = FlowKey.FragAny | FlowKey.FragLater;

        Assert.Equal(
            "ct_state(-new+est+trk),recirc_id(0x1),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(frag=no)",
            FlowFormatter.Format(FlowKey.And(key, mask), mask));
    }

    [Fact]
    public void An_exact_tcp_five_tuple_prints_every_field_of_its_attributes()
    {
        var key = Ipv4Key(IpProtocols.Tcp);
        key.CtState = CtState.Established | CtState.Tracked;
        key.TpSrc = 80;
        key.TpDst = 43210;
        key.TcpFlags = 0x12; // syn|ack
        var mask = MetadataMask();
        mask.CtState = CtState.New | CtState.Established | CtState.Tracked;
        mask.EthSrc = ulong.MaxValue;
        mask.EthDst = ulong.MaxValue;
        mask.EthType = 0xffff;
        mask.NwSrc = uint.MaxValue;
        mask.NwDst = uint.MaxValue;
        mask.NwProto = 0xff;
        mask.NwTos = 0xff;
        mask.NwTtl = 0xff;
        mask.NwFrag = 0xff;
        mask.TpSrc = 0xffff;
        mask.TpDst = 0xffff;
        mask.TcpFlags = 0xffff;

        Assert.Equal(
            "ct_state(-new+est+trk),recirc_id(0),in_port(1),packet_type(ns=0,id=0)," +
            "eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02),eth_type(0x0800)," +
            "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=80,dst=43210),tcp_flags(syn|ack)",
            FlowFormatter.Format(key, mask));
    }

    [Fact]
    public void An_all_ones_mask_shows_every_conntrack_field_and_ct_state_bit()
    {
        var key = Ipv4Key(IpProtocols.Tcp);
        key.TpSrc = 43210;
        key.TpDst = 8080;
        key.TcpFlags = 0x02;

        Assert.Equal(
            "ct_state(-new-est-rel-rpl-inv-trk-snat-dnat),ct_zone(0),ct_mark(0),ct_label(0)," +
            "ct_tuple4(src=0.0.0.0,dst=0.0.0.0,proto=0,tp_src=0,tp_dst=0),recirc_id(0),in_port(1)," +
            "packet_type(ns=0,id=0),eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02),eth_type(0x0800)," +
            "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=43210,dst=8080),tcp_flags(syn)",
            FlowFormatter.Format(key, FlowKey.AllOnes));
    }

    [Fact]
    public void A_partially_masked_ipv4_source_prints_address_slash_netmask()
    {
        var key = Ipv4Key(IpProtocols.Udp);
        var mask = MetadataMask();
        mask.EthType = 0xffff;
        mask.NwSrc = 0xffff_ff00;
        mask.NwFrag = FlowKey.FragAny;

        Assert.Equal(
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(src=10.0.0.0/255.255.255.0,frag=no)",
            FlowFormatter.Format(FlowKey.And(key, mask), mask));
    }

    [Fact]
    public void Partial_ct_state_masks_list_only_the_masked_bits_in_bit_order()
    {
        var key = Ipv4Key(IpProtocols.Tcp);
        key.CtState = CtState.Tracked | CtState.Reply | CtState.Established;
        var mask = MetadataMask();
        mask.CtState = CtState.DstNat | CtState.Tracked | CtState.Invalid | CtState.Reply;

        Assert.Equal(
            "ct_state(+rpl-inv+trk-dnat),recirc_id(0),in_port(1),packet_type(ns=0,id=0)",
            FlowFormatter.Format(FlowKey.And(key, mask), mask));
    }

    [Fact]
    public void Conntrack_zone_mark_and_label_print_in_hex_with_partial_masks()
    {
        var key = default(FlowKey);
        key.CtState = CtState.Tracked;
        key.CtZone = 5;
        key.CtMark = 0x2a;
        key.CtLabel = 1;
        key.InPort = 2;
        key.EthType = EtherTypes.Ipv4;
        var mask = MetadataMask();
        mask.CtState = CtState.Tracked;
        mask.CtZone = 0xffff;
        mask.CtMark = 0xff;
        mask.CtLabel = new UInt128(0xffff_0000_0000_0000, 0xffff);

        Assert.Equal(
            "ct_state(+trk),ct_zone(0x5),ct_mark(0x2a/0xff),ct_label(0x1/0xffff000000000000000000000000ffff),recirc_id(0),in_port(2),packet_type(ns=0,id=0)",
            FlowFormatter.Format(key, mask));
    }

    [Fact]
    public void An_ipv6_udp_flow_prints_label_tclass_and_hlimit()
    {
        var key = Ipv6Key(IpProtocols.Udp);
        key.TpSrc = 54321;
        key.TpDst = 33434;
        var mask = MetadataMask();
        mask.EthSrc = ulong.MaxValue;
        mask.EthDst = ulong.MaxValue;
        mask.EthType = 0xffff;
        mask.Ipv6Src = UInt128.MaxValue;
        mask.Ipv6Dst = UInt128.MaxValue;
        mask.Ipv6Label = 0xfffff;
        mask.NwProto = 0xff;
        mask.NwTos = 0xff;
        mask.NwTtl = 0xff;
        mask.NwFrag = 0xff;
        mask.TpSrc = 0xffff;
        mask.TpDst = 0xffff;

        Assert.Equal(
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02),eth_type(0x86dd)," +
            "ipv6(src=fd00::1,dst=fd00::2,label=0x12345,proto=17,tclass=0x28,hlimit=64,frag=no),udp(src=54321,dst=33434)",
            FlowFormatter.Format(key, mask));
    }

    [Fact]
    public void An_ipv6_prefix_and_partial_label_print_with_their_masks()
    {
        var key = Ipv6Key(IpProtocols.Udp);
        var mask = MetadataMask();
        mask.EthType = 0xffff;
        mask.Ipv6Src = new UInt128(ulong.MaxValue, 0);
        mask.Ipv6Label = 0xff;
        mask.NwFrag = FlowKey.FragAny;

        Assert.Equal(
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x86dd),ipv6(src=fd00::/ffff:ffff:ffff:ffff::,label=0x45/0xff,frag=no)",
            FlowFormatter.Format(FlowKey.And(key, mask), mask));
    }

    [Fact]
    public void An_arp_flow_prints_the_8_bit_opcode_match_as_open_vswitch_does()
    {
        var key = ArpKey();
        var mask = MetadataMask();
        mask.EthSrc = ulong.MaxValue;
        mask.EthDst = ulong.MaxValue;
        mask.EthType = 0xffff;
        mask.NwSrc = uint.MaxValue;
        mask.NwDst = uint.MaxValue;
        mask.ArpOp = 0xff;
        mask.ArpSha = ulong.MaxValue;
        mask.ArpTha = ulong.MaxValue;

        Assert.Equal(
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=02:00:00:00:00:01,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806)," +
            "arp(sip=10.0.0.1,tip=10.0.0.2,op=1/0xff,sha=02:00:00:00:00:01,tha=00:00:00:00:00:00)",
            FlowFormatter.Format(key, mask));
    }

    [Fact]
    public void An_icmp_flow_prints_type_and_code()
    {
        var key = Ipv4Key(IpProtocols.Icmp);
        key.IcmpType = 8;
        key.IcmpCode = 0;
        var mask = MetadataMask();
        mask.EthType = 0xffff;
        mask.NwProto = 0xff;
        mask.NwFrag = FlowKey.FragAny | FlowKey.FragLater;
        mask.TpSrc = 0xff;
        mask.TpDst = 0xff;

        Assert.Equal(
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=1,frag=no),icmp(type=8,code=0)",
            FlowFormatter.Format(key, mask));
    }

    [Fact]
    public void A_neighbour_solicitation_flow_prints_icmpv6_and_nd()
    {
        var key = NeighborSolicitationKey();
        var mask = MetadataMask();
        mask.EthType = 0xffff;
        mask.NwProto = 0xff;
        mask.NwFrag = FlowKey.FragAny;
        mask.TpSrc = 0xff;
        mask.TpDst = 0xff;
        mask.NdTarget = UInt128.MaxValue;
        mask.ArpSha = ulong.MaxValue;
        mask.ArpTha = ulong.MaxValue;

        Assert.Equal(
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x86dd),ipv6(proto=58,frag=no)," +
            "icmpv6(type=135,code=0),nd(target=fd00::2,sll=02:00:00:00:00:01,tll=00:00:00:00:00:00)",
            FlowFormatter.Format(key, mask));
    }

    [Fact]
    public void The_nd_attribute_is_left_out_unless_icmpv6_type_and_code_are_matched_exactly()
    {
        var key = NeighborSolicitationKey();
        var mask = MetadataMask();
        mask.EthType = 0xffff;
        mask.NwProto = 0xff;
        mask.TpSrc = 0xff;
        mask.NdTarget = UInt128.MaxValue;

        Assert.Equal(
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x86dd),ipv6(proto=58),icmpv6(type=135)",
            FlowFormatter.Format(key, mask));
    }

    [Fact]
    public void A_vlan_tagged_flow_nests_the_inner_type_in_encap()
    {
        var key = Ipv4Key(IpProtocols.Tcp);
        key.Vlan0Tpid = EtherTypes.Vlan8021Q;
        key.Vlan0Tci = (ushort)(FlowKey.VlanPresent | 10);
        var mask = MetadataMask();
        mask.Vlan0Tci = 0xffff;
        mask.Vlan0Tpid = 0xffff;
        mask.EthType = 0xffff;
        mask.NwFrag = FlowKey.FragAny | FlowKey.FragLater;

        Assert.Equal(
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x8100),vlan(vid=10,pcp=0),encap(eth_type(0x0800),ipv4(frag=no))",
            FlowFormatter.Format(FlowKey.And(key, mask), mask));
    }

    [Fact]
    public void Two_vlan_tags_nest_twice_and_a_vid_only_mask_leaves_pcp_out()
    {
        var key = Ipv4Key(IpProtocols.Udp);
        key.Vlan0Tpid = EtherTypes.Vlan8021AD;
        key.Vlan0Tci = (ushort)((5 << 13) | FlowKey.VlanPresent | 100);
        key.Vlan1Tpid = EtherTypes.Vlan8021Q;
        key.Vlan1Tci = (ushort)((3 << 13) | FlowKey.VlanPresent | 7);
        var mask = MetadataMask();
        mask.Vlan0Tci = 0x1fff;
        mask.Vlan0Tpid = 0xffff;
        mask.Vlan1Tci = 0xffff;
        mask.Vlan1Tpid = 0xffff;
        mask.EthType = 0xffff;

        Assert.Equal(
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x88a8),vlan(vid=100),encap(eth_type(0x8100),vlan(vid=7,pcp=3),encap(eth_type(0x0800)))",
            FlowFormatter.Format(FlowKey.And(key, mask), mask));
    }

    [Fact]
    public void Only_the_masked_half_of_the_ethernet_addresses_is_shown_and_partial_macs_carry_their_mask()
    {
        var key = Ipv4Key(IpProtocols.Tcp);
        var mask = MetadataMask();
        mask.EthDst = 0x01_00_00_00_00_00; // the multicast bit, as NORMAL's flood check reads it

        Assert.Equal(
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(dst=00:00:00:00:00:00/01:00:00:00:00:00)",
            FlowFormatter.Format(FlowKey.And(key, mask), mask));
    }

    [Fact]
    public void Partial_port_tcp_flag_and_tos_masks_print_as_value_slash_mask()
    {
        var key = Ipv4Key(IpProtocols.Tcp);
        key.NwTos = 0x10;
        key.TpDst = 1024;
        key.TcpFlags = 0x02;
        var mask = MetadataMask();
        mask.EthType = 0xffff;
        mask.NwProto = 0xff;
        mask.NwTos = 0xfc;
        mask.TpDst = 0xfc00;
        mask.TcpFlags = 0x16; // syn, rst, ack

        Assert.Equal(
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=6,tos=0x10/0xfc),tcp(dst=1024/0xfc00),tcp_flags(+syn-rst-ack)",
            FlowFormatter.Format(FlowKey.And(key, mask), mask));
    }

    [Fact]
    public void Later_fragments_have_no_transport_attribute_even_when_ports_are_masked()
    {
        var key = Ipv4Key(IpProtocols.Udp);
        key.NwFrag = FlowKey.FragAny | FlowKey.FragLater;
        var mask = MetadataMask();
        mask.EthType = 0xffff;
        mask.NwFrag = 0xff;
        mask.TpSrc = 0xffff;

        Assert.Equal(
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(frag=later)",
            FlowFormatter.Format(key, mask));
    }

    [Fact]
    public void Recirc_id_is_always_shown_and_a_masked_in_port_or_eth_type_prints_its_mask()
    {
        var key = default(FlowKey);
        key.InPort = 4;
        key.EthType = 0x0800;
        var mask = default(FlowKey);
        mask.InPort = 0xfffc;
        mask.EthType = 0xff00;

        Assert.Equal(
            "recirc_id(0),in_port(4/0xfffc),packet_type(ns=0,id=0),eth_type(0x0800/0xff00)",
            FlowFormatter.Format(key, mask));
    }

    [Fact]
    public void An_802_3_frame_matched_on_eth_type_prints_the_none_convention()
    {
        var key = default(FlowKey);
        key.InPort = 1;
        key.EthType = EtherTypes.None;
        var mask = MetadataMask();
        mask.EthType = 0xffff;

        Assert.Equal(
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0/0xffff)",
            FlowFormatter.Format(key, mask));
    }

    [Fact]
    public void Formatting_appends_to_the_callers_builder()
    {
        var sb = new StringBuilder("flow: ");
        var mask = MetadataMask();
        var key = default(FlowKey);
        key.InPort = 3;
        key.RecircId = 0x2a;

        FlowFormatter.Format(sb, key, mask);

        Assert.Equal("flow: recirc_id(0x2a),in_port(3),packet_type(ns=0,id=0)", sb.ToString());
    }

    // ---- exact (per-packet) form ----

    [Fact]
    public void A_tracked_tcp_packet_prints_its_flags_and_every_header_field()
    {
        var key = Ipv4Key(IpProtocols.Tcp);
        key.RecircId = 1;
        key.CtState = CtState.Established | CtState.Tracked;
        key.TpSrc = 43210;
        key.TpDst = 8080;
        key.TcpFlags = 0x10;
        key.Ipv6Src = Fd00_1; // leftovers the protocol does not carry are not shown

        Assert.Equal(
            "ct_state(est|trk),recirc_id(0x1),in_port(1),packet_type(ns=0,id=0),eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)," +
            "eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=43210,dst=8080),tcp_flags(ack)",
            FlowFormatter.FormatExact(key));
    }

    [Fact]
    public void An_untracked_arp_packet_prints_a_plain_opcode()
    {
        var key = ArpKey();
        key.InPort = 2;
        key.ArpOp = 2;
        key.TpSrc = 99;

        Assert.Equal(
            "recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src=02:00:00:00:00:01,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806)," +
            "arp(sip=10.0.0.1,tip=10.0.0.2,op=2,sha=02:00:00:00:00:01,tha=00:00:00:00:00:00)",
            FlowFormatter.FormatExact(key));
    }

    [Fact]
    public void A_neighbour_solicitation_packet_prints_ipv6_icmpv6_and_nd()
    {
        var key = NeighborSolicitationKey();
        key.EthDst = 0x33_33_ff_00_00_02;
        key.Ipv6Dst = new UInt128(0xff02_0000_0000_0000, 0x0000_0001_ff00_0002);
        key.NwTtl = 255;

        Assert.Equal(
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=02:00:00:00:00:01,dst=33:33:ff:00:00:02),eth_type(0x86dd)," +
            "ipv6(src=fd00::1,dst=ff02::1:ff00:2,label=0,proto=58,tclass=0,hlimit=255,frag=no)," +
            "icmpv6(type=135,code=0),nd(target=fd00::2,sll=02:00:00:00:00:01,tll=00:00:00:00:00:00)",
            FlowFormatter.FormatExact(key));
    }

    [Fact]
    public void A_first_fragment_keeps_its_ports_and_a_later_fragment_has_none()
    {
        var first = Ipv4Key(IpProtocols.Udp);
        first.NwFrag = FlowKey.FragAny;
        first.TpSrc = 1000;
        first.TpDst = 2000;
        var later = first;
        later.NwFrag = FlowKey.FragAny | FlowKey.FragLater;

        Assert.EndsWith("ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=first),udp(src=1000,dst=2000)", FlowFormatter.FormatExact(first), StringComparison.Ordinal);
        Assert.EndsWith("ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=later)", FlowFormatter.FormatExact(later), StringComparison.Ordinal);
    }

    [Fact]
    public void A_tracked_packet_shows_only_the_conntrack_fields_that_are_set()
    {
        var key = Ipv4Key(IpProtocols.Icmp);
        key.CtState = CtState.Related | CtState.Tracked;
        key.CtMark = 7;

        string text = FlowFormatter.FormatExact(key);

        Assert.StartsWith("ct_state(rel|trk),ct_mark(0x7),recirc_id(0),", text, StringComparison.Ordinal);
        Assert.EndsWith("icmp(type=0,code=0)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_present_fields_mask_covers_what_the_protocols_carry_and_nothing_else()
    {
        var icmp = Ipv4Key(IpProtocols.Icmp);
        var m = FlowFormatter.PresentFieldsMask(icmp);
        Assert.Equal((ushort)0xff, m.TpSrc);
        Assert.Equal((ushort)0xff, m.TpDst);
        Assert.Equal(UInt128.Zero, m.Ipv6Src);
        Assert.Equal(CtState.None, m.CtState);
        Assert.Equal(0ul, m.ArpSha);

        var arp = ArpKey();
        m = FlowFormatter.PresentFieldsMask(arp);
        Assert.Equal((byte)0xff, m.ArpOp);
        Assert.Equal(0xFFFF_FFFF_FFFFul, m.ArpTha);
        Assert.Equal((ushort)0, m.TpSrc);
        Assert.Equal((byte)0, m.NwTtl);
    }

    private static FlowKey MetadataMask()
    {
        var m = default(FlowKey);
        m.RecircId = uint.MaxValue;
        m.InPort = uint.MaxValue;
        return m;
    }

    private static FlowKey Ipv4Key(byte proto)
    {
        var k = default(FlowKey);
        k.InPort = 1;
        k.EthSrc = H1Mac;
        k.EthDst = H2Mac;
        k.EthType = EtherTypes.Ipv4;
        k.NwSrc = H1Ip;
        k.NwDst = H2Ip;
        k.NwProto = proto;
        k.NwTtl = 64;
        return k;
    }

    private static FlowKey Ipv6Key(byte proto)
    {
        var k = default(FlowKey);
        k.InPort = 1;
        k.EthSrc = H1Mac;
        k.EthDst = H2Mac;
        k.EthType = EtherTypes.Ipv6;
        k.Ipv6Src = Fd00_1;
        k.Ipv6Dst = Fd00_2;
        k.Ipv6Label = 0x12345;
        k.NwProto = proto;
        k.NwTos = 0x28;
        k.NwTtl = 64;
        return k;
    }

    private static FlowKey ArpKey()
    {
        var k = default(FlowKey);
        k.InPort = 1;
        k.EthSrc = H1Mac;
        k.EthDst = 0xFFFF_FFFF_FFFF;
        k.EthType = EtherTypes.Arp;
        k.NwSrc = H1Ip;
        k.NwDst = H2Ip;
        k.ArpOp = 1;
        k.ArpSha = H1Mac;
        k.ArpTha = 0;
        return k;
    }

    private static FlowKey NeighborSolicitationKey()
    {
        var k = Ipv6Key(IpProtocols.Icmpv6);
        k.Ipv6Label = 0;
        k.NwTos = 0;
        k.IcmpType = 135;
        k.IcmpCode = 0;
        k.NdTarget = Fd00_2;
        k.ArpSha = H1Mac;
        return k;
    }
}
