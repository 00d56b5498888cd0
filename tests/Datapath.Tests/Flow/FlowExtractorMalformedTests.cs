using System.Buffers.Binary;
using Datapath.Flow;
using Datapath.Packets;
using static Datapath.Tests.Flow.TestFrames;

namespace Datapath.Tests.Flow;

/// <summary>Where extraction stops on truncated or malformed frames (as OVS's miniflow_extract) and what it counts.</summary>
public sealed class FlowExtractorMalformedTests
{
    private readonly ExtractionStats _stats = new();

    [Fact]
    public void Frames_shorter_than_an_ethernet_header_give_metadata_only()
    {
        var metadata = new PacketMetadata { InPort = 9, CtZone = 3 };
        byte[] frame = V4().Udp(1, 2).Build();
        for (int length = 0; length < 14; length++)
        {
            var key = default(FlowKey);
            FlowExtractor.Extract(frame.AsSpan(0, length), in metadata, ref key, _stats, out int l3, out int l4);
            var expected = new FlowKey { InPort = 9, CtZone = 3 };
            FlowKeyAssert.Equal(expected, key);
            Assert.Equal(-1, l3);
            Assert.Equal(-1, l4);
        }

        Assert.Equal(14, _stats[MalformedReason.TruncatedEthernet]);
        Assert.Equal(14, _stats.Total);
    }

    [Fact]
    public void A_vlan_tag_without_its_inner_type_leaves_the_tpid_as_eth_type()
    {
        byte[] frame = V4().Udp(1, 2).Vlan(5, EtherTypes.Vlan8021Q).Build();
        foreach (int length in new[] { 14, 15, 16, 17 })
        {
            var key = Extract(frame[..length], _stats, out int l3, out int l4);
            Assert.Equal(EtherTypes.Vlan8021Q, key.EthType);
            Assert.Equal(0, key.Vlan0Tci);
            Assert.Equal(0x0A1B_2C3D_4E5FUL, key.EthDst);
            Assert.Equal(14, l3);
            Assert.Equal(-1, l4);
        }

        Assert.Equal(4, _stats[MalformedReason.TruncatedVlan]);
    }

    [Fact]
    public void A_truncated_ipv4_header_keeps_l2_and_nothing_of_l3()
    {
        byte[] frame = V4().Udp(1, 2).Build();
        var key = Extract(frame[..(14 + 19)], _stats, out int l3, out int l4);
        Assert.Equal(EtherTypes.Ipv4, key.EthType);
        Assert.Equal(0x0200_0000_0001UL, key.EthSrc);
        Assert.Equal(0u, key.NwSrc);
        Assert.Equal(0, key.NwTtl);
        Assert.Equal(14, l3);
        Assert.Equal(-1, l4);
        Assert.Equal(1, _stats[MalformedReason.TruncatedIpv4]);
    }

    [Theory]
    [InlineData(0x44, 28, MalformedReason.BadIpv4HeaderLength)]
    [InlineData(0x4F, 28, MalformedReason.TruncatedIpv4)]
    [InlineData(0x45, 19, MalformedReason.BadIpv4TotalLength)]
    [InlineData(0x46, 20, MalformedReason.BadIpv4TotalLength)]
    [InlineData(0x45, 29, MalformedReason.TruncatedIpv4)]
    public void Bad_ipv4_lengths_stop_before_any_l3_field(byte versionIhl, ushort totalLength, MalformedReason reason)
    {
        byte[] frame = V4().Udp(1, 2).Build();
        frame[14] = versionIhl;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), totalLength);
        var key = Extract(frame, _stats, out int l3, out int l4);
        Assert.Equal(0u, key.NwDst);
        Assert.Equal(0, key.NwProto);
        Assert.Equal(14, l3);
        Assert.Equal(-1, l4);
        Assert.Equal(1, _stats[reason]);
        Assert.Equal(1, _stats.Total);
    }

    [Fact]
    public void More_than_255_bytes_of_padding_after_an_ip_datagram_stops_as_in_ovs()
    {
        byte[] frame = V4().Udp(1, 2).Build();
        var key = Extract([.. frame, .. new byte[255]], _stats, out _, out _);
        Assert.Equal(2, key.TpDst);
        Assert.Equal(0, _stats.Total);

        key = Extract([.. frame, .. new byte[256]], _stats, out _, out int l4);
        Assert.Equal(0u, key.NwSrc);
        Assert.Equal(-1, l4);
        Assert.Equal(1, _stats[MalformedReason.ExcessPadding]);

        byte[] v6 = V6().Udp(1, 2).Build();
        key = Extract([.. v6, .. new byte[256]], _stats, out _, out _);
        Assert.Equal(UInt128.Zero, key.Ipv6Src);
        Assert.Equal(2, _stats[MalformedReason.ExcessPadding]);
    }

    [Theory]
    [InlineData(IpProtocols.Tcp, 19, MalformedReason.TruncatedTcp)]
    [InlineData(IpProtocols.Udp, 7, MalformedReason.TruncatedUdp)]
    [InlineData(IpProtocols.Sctp, 11, MalformedReason.TruncatedSctp)]
    [InlineData(IpProtocols.Icmp, 7, MalformedReason.TruncatedIcmp)]
    [InlineData(2, 7, MalformedReason.TruncatedIgmp)]
    public void A_truncated_l4_header_leaves_tp_fields_zero_but_ip_fields_set(byte proto, int l4Length, MalformedReason reason)
    {
        byte[] l4 = new byte[l4Length];
        l4.AsSpan().Fill(0x5A);
        var key = Extract(V4().Transport(proto, l4).Build(), _stats, out int l3, out int l4Offset);
        Assert.Equal(proto, key.NwProto);
        Assert.Equal(0x0A00_0001u, key.NwSrc);
        Assert.Equal(Ttl, key.NwTtl);
        Assert.Equal(0, key.TpSrc);
        Assert.Equal(0, key.TpDst);
        Assert.Equal(0, key.TcpFlags);
        Assert.Equal(14, l3);
        Assert.Equal(34, l4Offset);
        Assert.Equal(1, _stats[reason]);
        Assert.Equal(1, _stats.Total);
    }

    [Fact]
    public void A_truncated_icmpv6_header_leaves_type_and_code_zero()
    {
        var key = Extract(V6().Transport(IpProtocols.Icmpv6, 135, 0, 0, 0, 0, 0, 0).Build(), _stats, out _, out int l4);
        Assert.Equal(IpProtocols.Icmpv6, key.NwProto);
        Assert.Equal(0, key.IcmpType);
        Assert.Equal(54, l4);
        Assert.Equal(1, _stats[MalformedReason.TruncatedIcmpv6]);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    [InlineData(15)]
    public void A_bad_tcp_data_offset_is_counted_but_ports_and_flags_are_kept_as_in_ovs(int dataOffsetWords)
    {
        // A 20-byte segment: any offset other than 5 words is wrong.
        byte[] tcp = [0, 80, 0x1F, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, (byte)(dataOffsetWords << 4), 0x10, 0xFF, 0xFF, 0, 0, 0, 0];
        var frame = V4().Transport(IpProtocols.Tcp, tcp).Build();
        var key = Extract(frame, _stats, out _, out _);
        Assert.Equal(80, key.TpSrc);
        Assert.Equal(8080, key.TpDst);
        Assert.Equal(0x010, key.TcpFlags);
        Assert.Equal(1, _stats[MalformedReason.BadTcpOffset]);
    }

    [Fact]
    public void A_truncated_arp_body_keeps_only_l2()
    {
        var frame = Arp(1, MacA, V4A, MacB, V4B).Build();
        var key = Extract(frame[..(14 + 27)], _stats, out int l3, out int l4);
        Assert.Equal(EtherTypes.Arp, key.EthType);
        Assert.Equal(0, key.ArpOp);
        Assert.Equal(0u, key.NwSrc);
        Assert.Equal(14, l3);
        Assert.Equal(-1, l4);
        Assert.Equal(1, _stats[MalformedReason.TruncatedArp]);
    }

    [Fact]
    public void A_truncated_ipv6_header_or_payload_keeps_only_l2()
    {
        byte[] frame = V6().Udp(1, 2).Build();
        var key = Extract(frame[..(14 + 39)], _stats, out _, out _);
        Assert.Equal(EtherTypes.Ipv6, key.EthType);
        Assert.Equal(UInt128.Zero, key.Ipv6Src);

        key = Extract(frame[..^1], _stats, out _, out int l4);
        Assert.Equal(UInt128.Zero, key.Ipv6Dst);
        Assert.Equal(-1, l4);
        Assert.Equal(2, _stats[MalformedReason.TruncatedIpv6]);
    }

    [Theory]
    [InlineData(IpProtocols.DestinationOptions, new byte[] { IpProtocols.Udp, 1, 0, 0, 0, 0, 0, 0 })]
    [InlineData(IpProtocols.HopByHop, new byte[] { IpProtocols.Udp, 0, 0, 0, 0, 0, 0 })]
    [InlineData(IpProtocols.HopByHop, new byte[] { 51, 0, 0, 0, 0, 0, 0, 0, IpProtocols.Udp, 3, 0, 0, 0, 0, 0, 0 })]
    [InlineData(IpProtocols.Fragment, new byte[] { IpProtocols.Udp, 0, 0, 1, 0, 0, 0 })]
    public void A_truncated_extension_header_keeps_addresses_and_label_but_no_proto_or_ttl(byte first, byte[] payload)
    {
        var key = Extract(V6().Transport(first, payload).Build(), _stats, out int l3, out int l4);
        Assert.Equal(PacketDotNetFlowKey.Ipv6(V6A), key.Ipv6Src);
        Assert.Equal(PacketDotNetFlowKey.Ipv6(V6B), key.Ipv6Dst);
        Assert.Equal((uint)FlowLabel, key.Ipv6Label);
        Assert.Equal(0, key.NwProto);
        Assert.Equal(0, key.NwTtl);
        Assert.Equal(0, key.NwTos);
        Assert.Equal(14, l3);
        Assert.Equal(-1, l4);
        Assert.Equal(1, _stats[MalformedReason.BadIpv6Extension]);
    }

    [Fact]
    public void Nd_without_a_full_target_gives_type_and_code_only()
    {
        byte[] ns = V6().Icmp(135).Payload(V6B.GetAddressBytes()[..12]).Build();
        var key = Extract(ns, _stats, out _, out _);
        Assert.Equal(135, key.IcmpType);
        Assert.Equal(UInt128.Zero, key.NdTarget);
        Assert.Equal(1, _stats[MalformedReason.TruncatedNdTarget]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void An_nd_option_of_length_zero_or_past_the_end_stops_the_walk_keeping_what_was_read(byte badLength)
    {
        byte[] options = [.. LinkLayerOption(1, MacA), 2, badLength, 1, 2, 3, 4, 5, 6];
        var key = Extract(NeighborDiscovery(135, V6B, options).Build(), _stats, out _, out _);
        Assert.Equal(PacketDotNetFlowKey.Ipv6(V6B), key.NdTarget);
        Assert.Equal(0x0200_0000_0001UL, key.ArpSha);
        Assert.Equal(0UL, key.ArpTha);
        Assert.Equal(1, _stats[MalformedReason.BadNdOptions]);
    }

    [Fact]
    public void A_repeated_link_layer_option_clears_target_and_addresses_as_in_ovs()
    {
        byte[] options = [.. LinkLayerOption(2, MacB), .. LinkLayerOption(1, MacA), .. LinkLayerOption(1, MacB)];
        var key = Extract(NeighborDiscovery(136, V6B, options).Build(), _stats, out _, out _);
        Assert.Equal(136, key.IcmpType);
        Assert.Equal(UInt128.Zero, key.NdTarget);
        Assert.Equal(0UL, key.ArpSha);
        Assert.Equal(0UL, key.ArpTha);
        Assert.Equal(1, _stats[MalformedReason.BadNdOptions]);
    }

    [Fact]
    public void Nd_trailing_bytes_shorter_than_an_option_and_long_address_options_are_ignored()
    {
        byte[] longSll = [1, 2, .. MacB.GetAddressBytes(), 0, 0, 0, 0, 0, 0, 0, 0];
        byte[] options = [.. longSll, .. LinkLayerOption(2, MacA), 9, 9, 9, 9];
        var key = Extract(NeighborDiscovery(135, V6A, options).Build(), _stats, out _, out _);
        Assert.Equal(PacketDotNetFlowKey.Ipv6(V6A), key.NdTarget);
        Assert.Equal(0UL, key.ArpSha);
        Assert.Equal(0x0200_0000_0001UL, key.ArpTha);
        Assert.Equal(0, _stats.Total);
    }

    [Fact]
    public void Extracting_a_packet_sets_its_offsets_and_resets_them_when_absent()
    {
        var packet = new Datapath.Packets.Packet();
        var key = default(FlowKey);
        packet.SetFrame(V4().Udp(1, 2).Build(), inPort: 1);
        FlowExtractor.Extract(packet, ref key, _stats);
        Assert.Equal(14, packet.L3Offset);
        Assert.Equal(34, packet.L4Offset);

        packet.SetFrame(Arp(1, MacA, V4A, MacB, V4B).Build(), inPort: 1);
        packet.L4Offset = 99;
        FlowExtractor.Extract(packet, ref key, _stats);
        Assert.Equal(14, packet.L3Offset);
        Assert.Equal(-1, packet.L4Offset);

        packet.SetFrame(new byte[10], inPort: 1);
        packet.L3Offset = 99;
        FlowExtractor.Extract(packet, ref key, _stats);
        Assert.Equal(-1, packet.L3Offset);
        Assert.Equal(-1, packet.L4Offset);
    }
}
