using Datapath.Flow;
using Datapath.Packets;
using TestSupport.Frames;
using static Datapath.Tests.Flow.TestFrames;

namespace Datapath.Tests.Flow;

/// <summary>Well-formed frames of each protocol: every field against PacketDotNet's parse of the same bytes.</summary>
public sealed class FlowExtractorProtocolTests
{
    private static readonly uint V4ANumber = 0x0A00_0001;
    private static readonly uint V4BNumber = 0xC0A8_0709;

    [Fact]
    public void Tcp_over_ipv4_gives_addresses_ports_flags_tos_and_ttl()
    {
        var key = ExtractAndCompare(V4().Tcp(40000, 443, TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Cwr | TcpFlags.Ns).Build());

        Assert.Equal(EtherTypes.Ipv4, key.EthType);
        Assert.Equal(V4ANumber, key.NwSrc);
        Assert.Equal(V4BNumber, key.NwDst);
        Assert.Equal(IpProtocols.Tcp, key.NwProto);
        Assert.Equal(Tos, key.NwTos);
        Assert.Equal(Ttl, key.NwTtl);
        Assert.Equal(40000, key.TpSrc);
        Assert.Equal(443, key.TpDst);
        Assert.Equal(0x100 | 0x80 | 0x10 | 0x02, key.TcpFlags);
    }

    [Fact]
    public void Tcp_with_options_is_parsed_past_its_data_offset()
    {
        byte[] options = [2, 4, 0x05, 0xB4, 1, 1, 4, 2, 1, 3, 3, 7];
        var key = ExtractAndCompare(V4().Tcp(1234, 80, TcpFlags.Psh | TcpFlags.Ack, seq: 0x1234_5678, window: 65535).TcpOptions(options).Payload(new byte[5]).Build());
        Assert.Equal(1234, key.TpSrc);
        Assert.Equal(0x018, key.TcpFlags);
    }

    [Fact]
    public void Tcp_flags_are_the_low_twelve_bits_including_the_reserved_ones()
    {
        var key = Extract(V4().Tcp(1, 2, 0xE11, seq: 0x1234_5678, window: 65535).Payload(new byte[5]).Build(), new ExtractionStats(), out _, out _);
        Assert.Equal(0xE11, key.TcpFlags);
    }

    [Fact]
    public void Udp_over_ipv4_gives_ports()
    {
        var key = ExtractAndCompare(V4().Udp(5353, 53).Build());
        Assert.Equal(IpProtocols.Udp, key.NwProto);
        Assert.Equal(5353, key.TpSrc);
        Assert.Equal(53, key.TpDst);
    }

    [Fact]
    public void Icmp_type_and_code_go_into_the_port_fields()
    {
        byte[] unreachable = [3, 3, 0, 0, 0, 0, 0, 0, 0x45, 0];
        var key = ExtractAndCompare(V4().Transport(IpProtocols.Icmp, unreachable).Build());
        Assert.Equal(3, key.IcmpType);
        Assert.Equal(3, key.IcmpCode);

        key = ExtractAndCompare(V4().IcmpEcho(8, 0x1DE7).Payload(0xAA, 0xBB).Build());
        Assert.Equal(8, key.TpSrc);
        Assert.Equal(0, key.TpDst);
    }

    [Fact]
    public void Sctp_ports_are_extracted()
    {
        // PacketDotNet has no SCTP: it checks L2/L3, the construction checks the ports.
        byte[] sctp = [0x0B, 0x59, 0x0F, 0xA1, 0, 0, 0, 1, 0, 0, 0, 0];
        var frame = V4().Transport(IpProtocols.Sctp, sctp).Build();
        var stats = new ExtractionStats();
        var key = Extract(frame, stats, out _, out int l4);

        var expected = PacketDotNetFlowKey.From(frame, default).Key;
        expected.TpSrc = 2905;
        expected.TpDst = 4001;
        FlowKeyAssert.Equal(expected, key);
        Assert.Equal(IpProtocols.Sctp, key.NwProto);
        Assert.Equal(34, l4);
        Assert.Equal(0, stats.Total);
    }

    [Fact]
    public void Igmp_type_and_code_go_into_the_port_fields_as_in_ovs()
    {
        byte[] report = [0x16, 0, 0, 0, 239, 1, 2, 3];
        var stats = new ExtractionStats();
        var key = Extract(V4().Transport(2, report).Build(), stats, out _, out int l4);
        Assert.Equal(0x16, key.TpSrc);
        Assert.Equal(0, key.TpDst);
        Assert.Equal(34, l4);
        Assert.Equal(0, stats.Total);
    }

    [Fact]
    public void Ipv4_options_move_the_l4_offset_by_the_header_length()
    {
        var frame = V4().Ipv4Options(0x94, 4, 0, 0, 1, 1, 1, 0).Udp(1000, 2000).Build();
        var stats = new ExtractionStats();
        var key = Extract(frame, stats, out int l3, out int l4);
        ExtractAndCompare(frame);
        Assert.Equal(14, l3);
        Assert.Equal(14 + 28, l4);
        Assert.Equal(1000, key.TpSrc);
        Assert.Equal(2000, key.TpDst);
    }

    [Fact]
    public void A_first_ipv4_fragment_is_marked_and_keeps_its_l4_fields()
    {
        var key = ExtractAndCompare(V4().Fragment(0, more: true).Udp(7000, 7001).Payload(new byte[64]).Build());
        Assert.Equal(FlowKey.FragAny, key.NwFrag);
        Assert.Equal(7000, key.TpSrc);
    }

    [Fact]
    public void A_later_ipv4_fragment_has_no_l4_fields_and_no_l4_offset()
    {
        byte[] tail = [0x1B, 0x58, 0x1B, 0x59, 0, 16, 0, 0];
        var frame = V4().Fragment(185 * 8, more: false).Transport(IpProtocols.Udp, tail).Build();
        var key = ExtractAndCompare(frame);
        Assert.Equal(FlowKey.FragAny | FlowKey.FragLater, key.NwFrag);
        Assert.Equal(IpProtocols.Udp, key.NwProto);
        Assert.Equal(0, key.TpSrc);
        Assert.Equal(0, key.TpDst);
    }

    [Fact]
    public void Dont_fragment_alone_does_not_make_a_fragment()
    {
        var key = ExtractAndCompare(V4().DontFragment().Transport(IpProtocols.Udp, 0, 1, 0, 2, 0, 8, 0, 0).Build());
        Assert.Equal(0, key.NwFrag);
        Assert.Equal(2, key.TpDst);
    }

    [Fact]
    public void Arp_request_and_reply_give_op_addresses_and_hardware_addresses()
    {
        var request = Arp(1, MacA, V4A, System.Net.NetworkInformation.PhysicalAddress.Parse("00-00-00-00-00-00"), V4B);
        var key = ExtractAndCompare(request.Build());
        Assert.Equal(1, key.ArpOp);
        Assert.Equal(V4ANumber, key.NwSrc);
        Assert.Equal(V4BNumber, key.NwDst);
        Assert.Equal(0x0200_0000_0001UL, key.ArpSha);

        var reply = Arp(2, MacB, V4B, MacA, V4A);
        key = ExtractAndCompare(reply.Build());
        Assert.Equal(2, key.ArpOp);
        Assert.Equal(0x0A1B_2C3D_4E5FUL, key.ArpSha);
        Assert.Equal(0x0200_0000_0001UL, key.ArpTha);
    }

    [Fact]
    public void Arp_for_other_hardware_or_protocol_types_leaves_the_l3_fields_zero()
    {
        var arp = Arp(1, MacB, V4B, MacA, V4A, hardwareType: (ushort)PacketDotNet.LinkLayers.Ieee80211);
        var key = Extract(arp.Build(), new ExtractionStats(), out int l3, out int l4);
        Assert.Equal(EtherTypes.Arp, key.EthType);
        Assert.Equal(0, key.ArpOp);
        Assert.Equal(0u, key.NwSrc);
        Assert.Equal(0UL, key.ArpSha);
        Assert.Equal(14, l3);
        Assert.Equal(-1, l4);
    }

    [Fact]
    public void Arp_opcodes_above_255_keep_addresses_but_not_the_op()
    {
        var arp = Arp(0x0101, MacB, V4B, MacA, V4A);
        var key = Extract(arp.Build(), new ExtractionStats(), out _, out _);
        Assert.Equal(0, key.ArpOp);
        Assert.Equal(V4BNumber, key.NwSrc);
    }

    [Fact]
    public void A_single_8021q_tag_is_stored_with_the_present_bit_and_its_tpid()
    {
        var frame = V4().Udp(1, 2).Vlan(0xA00A, EtherTypes.Vlan8021Q).Build();
        var key = ExtractAndCompare(frame);
        Assert.Equal(EtherTypes.Vlan8021Q, key.Vlan0Tpid);
        Assert.Equal(0xA00A | FlowKey.VlanPresent, key.Vlan0Tci);
        Assert.Equal(0, key.Vlan1Tci);
        Assert.Equal(EtherTypes.Ipv4, key.EthType);
        Assert.Equal(2, key.TpDst);
    }

    [Fact]
    public void Double_tagged_8021ad_frames_store_both_tags_outer_first()
    {
        var frame = V6().Tcp(3, 4).Vlan(0x0FFF, EtherTypes.Vlan8021AD).Vlan(0x2064, EtherTypes.Vlan8021Q).Build();
        var key = ExtractAndCompare(frame);
        Assert.Equal(EtherTypes.Vlan8021AD, key.Vlan0Tpid);
        Assert.Equal(0x1FFF, key.Vlan0Tci);
        Assert.Equal(EtherTypes.Vlan8021Q, key.Vlan1Tpid);
        Assert.Equal(0x3064, key.Vlan1Tci);
        Assert.Equal(EtherTypes.Ipv6, key.EthType);
        Assert.Equal(4, key.TpDst);
    }

    [Fact]
    public void A_third_vlan_tag_stops_parsing_with_its_tpid_as_eth_type()
    {
        var frame = V4().Udp(1, 2).Vlan(1, EtherTypes.Vlan8021AD).Vlan(2, EtherTypes.Vlan8021Q).Vlan(3, EtherTypes.Vlan8021Q).Build();
        var stats = new ExtractionStats();
        var key = Extract(frame, stats, out int l3, out int l4);
        Assert.Equal(EtherTypes.Vlan8021Q, key.EthType);
        Assert.Equal(1 | FlowKey.VlanPresent, key.Vlan0Tci);
        Assert.Equal(2 | FlowKey.VlanPresent, key.Vlan1Tci);
        Assert.Equal(0u, key.NwSrc);
        Assert.Equal(22, l3);
        Assert.Equal(-1, l4);
        Assert.Equal(1, stats[MalformedReason.TooManyVlans]);
    }

    [Fact]
    public void An_8023_llc_frame_gets_eth_type_05ff()
    {
        byte[] llc = [0x42, 0x42, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        var frame = Eth().EtherType((ushort)llc.Length).Payload(llc).Build();
        var stats = new ExtractionStats();
        var key = Extract(frame, stats, out int l3, out int l4);
        Assert.Equal(0x05FF, key.EthType);
        Assert.Equal(14, l3);
        Assert.Equal(-1, l4);
        Assert.Equal(0, stats.Total);
    }

    [Fact]
    public void An_llc_snap_frame_with_the_ethernet_oui_carries_its_ethertype()
    {
        var ip = V4().Udp(10, 20).Build()[14..];
        byte[] snap = [0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00, .. ip];
        var key = Extract(Eth().EtherType((ushort)snap.Length).Payload(snap).Build(), new ExtractionStats(), out int l3, out int l4);
        Assert.Equal(EtherTypes.Ipv4, key.EthType);
        Assert.Equal(22, l3);
        Assert.Equal(42, l4);
        Assert.Equal(20, key.TpDst);
    }

    [Fact]
    public void Ipv6_gives_addresses_label_traffic_class_and_hop_limit()
    {
        var key = ExtractAndCompare(V6().Udp(546, 547).Build());
        Assert.Equal(EtherTypes.Ipv6, key.EthType);
        Assert.Equal(PacketDotNetFlowKey.Ipv6(V6A), key.Ipv6Src);
        Assert.Equal(PacketDotNetFlowKey.Ipv6(V6B), key.Ipv6Dst);
        Assert.Equal((uint)FlowLabel, key.Ipv6Label);
        Assert.Equal(TrafficClass, key.NwTos);
        Assert.Equal(Ttl, key.NwTtl);
        Assert.Equal(IpProtocols.Udp, key.NwProto);
        Assert.Equal(547, key.TpDst);
        Assert.Equal(0u, key.NwSrc);
    }

    [Fact]
    public void Tcp_over_ipv6_gives_ports_and_flags()
    {
        var key = ExtractAndCompare(V6().Tcp(8080, 51000, TcpFlags.Fin | TcpFlags.Ack).Build());
        Assert.Equal(0x011, key.TcpFlags);
    }

    [Fact]
    public void Icmpv6_echo_gives_type_and_code_and_no_nd_fields()
    {
        var key = ExtractAndCompare(V6().IcmpEcho(128, 77).Payload(0xAA, 0xBB).Build());
        Assert.Equal(128, key.IcmpType);
        Assert.Equal(0, key.IcmpCode);
        Assert.Equal(UInt128.Zero, key.NdTarget);
    }

    [Fact]
    public void A_single_hop_by_hop_header_is_skipped()
    {
        byte[] payload = [IpProtocols.Udp, 0, 1, 4, 0, 0, 0, 0, 0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0];
        var key = ExtractAndCompare(V6().Transport(IpProtocols.HopByHop, payload).Build());
        Assert.Equal(IpProtocols.Udp, key.NwProto);
        Assert.Equal(12345, key.TpSrc);
        Assert.Equal(53, key.TpDst);
    }

    /// <summary>PacketDotNet 1.4.8 reads every extension header at offset 40, so chains are checked against the construction.</summary>
    [Fact]
    public void An_extension_chain_ends_in_the_final_next_header_and_its_l4()
    {
        byte[] payload =
        [
            IpProtocols.DestinationOptions, 0, 1, 4, 0, 0, 0, 0,                        // hop-by-hop, 8 bytes
            IpProtocols.Routing, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,        // destination options, 16 bytes
            51, 0, 4, 0, 0, 0, 0, 0,                                                    // routing type 4, segments left 0, 8 bytes
            IpProtocols.Tcp, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,             // AH, (2 + 2) * 4 = 16 bytes
            0x1F, 0x90, 0xC7, 0x38, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0xFF, 0xFF, 0, 0, 0, 0, // TCP SYN/ACK
        ];
        var stats = new ExtractionStats();
        var key = Extract(V6().Transport(IpProtocols.HopByHop, payload).Build(), stats, out int l3, out int l4);

        Assert.Equal(0, stats.Total);
        Assert.Equal(IpProtocols.Tcp, key.NwProto);
        Assert.Equal(0, key.NwFrag);
        Assert.Equal(8080, key.TpSrc);
        Assert.Equal(51000, key.TpDst);
        Assert.Equal(0x012, key.TcpFlags);
        Assert.Equal(TrafficClass, key.NwTos);
        Assert.Equal(Ttl, key.NwTtl);
        Assert.Equal(14, l3);
        Assert.Equal(14 + 40 + 48, l4);
    }

    [Fact]
    public void A_first_ipv6_fragment_is_marked_and_parses_its_l4_header()
    {
        byte[] payload = [IpProtocols.Udp, 0, 0x00, 0x01, 0, 0, 0, 42, 0x30, 0x39, 0x00, 0x35, 0x0F, 0xA0, 0, 0];
        var key = ExtractAndCompare(V6().Transport(IpProtocols.Fragment, payload).Build());
        Assert.Equal(FlowKey.FragAny, key.NwFrag);
        Assert.Equal(IpProtocols.Udp, key.NwProto);
        Assert.Equal(53, key.TpDst);
    }

    [Fact]
    public void A_later_ipv6_fragment_reports_proto_44_and_no_l4()
    {
        byte[] payload = [IpProtocols.Udp, 0, 0x05, 0xA8, 0, 0, 0, 42, 0x30, 0x39, 0x00, 0x35, 0x0F, 0xA0, 0, 0];
        var key = ExtractAndCompare(V6().Transport(IpProtocols.Fragment, payload).Build());
        Assert.Equal(FlowKey.FragAny | FlowKey.FragLater, key.NwFrag);
        Assert.Equal(IpProtocols.Fragment, key.NwProto);
        Assert.Equal(0, key.TpDst);
    }

    [Fact]
    public void An_atomic_ipv6_fragment_header_is_not_a_fragment()
    {
        byte[] payload = [IpProtocols.Udp, 0, 0, 0, 0, 0, 0, 42, 0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0];
        var key = ExtractAndCompare(V6().Transport(IpProtocols.Fragment, payload).Build());
        Assert.Equal(0, key.NwFrag);
        Assert.Equal(IpProtocols.Udp, key.NwProto);
        Assert.Equal(53, key.TpDst);
    }

    [Fact]
    public void Neighbor_solicitation_gives_target_and_source_link_address()
    {
        var ns = NeighborDiscovery(135, V6B, LinkLayerOption(1, MacA));
        var key = ExtractAndCompare(ns.Build());
        Assert.Equal(135, key.IcmpType);
        Assert.Equal(PacketDotNetFlowKey.Ipv6(V6B), key.NdTarget);
        Assert.Equal(0x0200_0000_0001UL, key.ArpSha);
        Assert.Equal(0UL, key.ArpTha);
    }

    [Fact]
    public void Neighbor_advertisement_gives_target_and_target_link_address()
    {
        var na = NeighborDiscovery(136, V6A, LinkLayerOption(2, MacB));
        var key = ExtractAndCompare(na.Build());
        Assert.Equal(136, key.IcmpType);
        Assert.Equal(PacketDotNetFlowKey.Ipv6(V6A), key.NdTarget);
        Assert.Equal(0UL, key.ArpSha);
        Assert.Equal(0x0A1B_2C3D_4E5FUL, key.ArpTha);
    }

    [Fact]
    public void Nd_options_of_other_types_are_skipped_and_both_addresses_are_taken()
    {
        byte[] mtu = [5, 1, 0, 0, 0, 0, 0x05, 0xDC];
        var ns = NeighborDiscovery(135, V6B, [.. mtu, .. LinkLayerOption(2, MacB), .. LinkLayerOption(1, MacA)]);
        var key = ExtractAndCompare(ns.Build());
        Assert.Equal(0x0200_0000_0001UL, key.ArpSha);
        Assert.Equal(0x0A1B_2C3D_4E5FUL, key.ArpTha);
    }

    [Fact]
    public void Nd_with_a_nonzero_code_is_plain_icmpv6()
    {
        var ns = NeighborDiscovery(135, V6B, LinkLayerOption(1, MacA), code: 1);
        var stats = new ExtractionStats();
        var key = Extract(ns.Build(), stats, out _, out _);
        Assert.Equal(135, key.IcmpType);
        Assert.Equal(1, key.IcmpCode);
        Assert.Equal(UInt128.Zero, key.NdTarget);
        Assert.Equal(0UL, key.ArpSha);
        Assert.Equal(0, stats.Total);
    }

    [Fact]
    public void Metadata_is_copied_into_the_key()
    {
        var metadata = new PacketMetadata
        {
            InPort = 3,
            RecircId = 0xABCD,
            CtState = CtState.Tracked | CtState.Established | CtState.Reply,
            CtZone = 4242,
            CtMark = 0xDEAD_BEEF,
            CtLabel = new UInt128(0x0102_0304_0506_0708, 0x1112_1314_1516_1718),
        };
        var frame = V4().Udp(1, 2).Build();
        var key = Extract(frame, new ExtractionStats(), out _, out _, in metadata);
        Assert.Equal(3u, key.InPort);
        Assert.Equal(0xABCDu, key.RecircId);
        Assert.Equal(metadata.CtState, key.CtState);
        Assert.Equal(4242, key.CtZone);
        Assert.Equal(0xDEAD_BEEFu, key.CtMark);
        Assert.Equal(metadata.CtLabel, key.CtLabel);
        Assert.Equal(2, key.TpDst);
    }

    [Fact]
    public void The_key_is_overwritten_completely()
    {
        var key = FlowKey.AllOnes;
        var metadata = new PacketMetadata { InPort = 1 };
        var frame = V4().Udp(1, 2).Build();
        FlowExtractor.Extract(frame, in metadata, ref key, new ExtractionStats(), out _, out _);
        var fresh = Extract(frame, new ExtractionStats(), out _, out _, in metadata);
        FlowKeyAssert.Equal(fresh, key);
        Assert.Equal(0UL, key.ArpSha);
    }

    [Fact]
    public void Ethernet_padding_after_the_datagram_is_not_parsed()
    {
        var frame = V4().Tcp(5, 6, TcpFlags.Ack).Build();
        Assert.Equal(54, frame.Length);
        byte[] padded = [.. frame, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        var stats = new ExtractionStats();
        var key = Extract(padded, stats, out _, out _);
        FlowKeyAssert.Equal(Extract(frame, stats, out _, out _), key);
        Assert.Equal(0, stats.Total);
    }
}
