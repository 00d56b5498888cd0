using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using Datapath.Actions;
using Datapath.Packets;
using PacketDotNet;

namespace Datapath.Tests.Actions;

public class SetFieldActionTests
{
    private const int L3 = 14;

    // ---- Ethernet ----

    [Fact]
    public void EthSrc_and_EthDst_with_a_full_mask_replace_the_addresses()
    {
        var packet = TestFrames.Load(TestFrames.Ipv4Tcp().Build());

        Assert.True(Apply(packet, SetFieldTarget.EthSrc, 0x0A0B0C0D0E0F, 0xFFFF_FFFF_FFFF));
        Assert.True(Apply(packet, SetFieldTarget.EthDst, 0x112233445566, 0xFFFF_FFFF_FFFF));

        var eth = (EthernetPacket)TestFrames.Parse(TestFrames.Bytes(packet));
        Assert.Equal(PhysicalAddress.Parse("0A-0B-0C-0D-0E-0F"), eth.SourceHardwareAddress);
        Assert.Equal(PhysicalAddress.Parse("11-22-33-44-55-66"), eth.DestinationHardwareAddress);
        ChecksumAssert.AllValid(TestFrames.Bytes(packet));
    }

    [Fact]
    public void EthDst_with_a_partial_mask_changes_only_the_masked_bits()
    {
        // 02:00:00:00:00:02 with the low three bytes taken from aa:bb:cc.
        var packet = TestFrames.Load(TestFrames.Ipv4Tcp().Build());

        Assert.True(Apply(packet, SetFieldTarget.EthDst, 0xFFFF_FFAA_BBCC, 0x0000_00FF_FFFF));

        var eth = (EthernetPacket)TestFrames.Parse(TestFrames.Bytes(packet));
        Assert.Equal(PhysicalAddress.Parse("02-00-00-AA-BB-CC"), eth.DestinationHardwareAddress);
        Assert.Equal(TestFrames.Mac1, eth.SourceHardwareAddress);
    }

    // ---- IPv4 addresses ----

    [Fact]
    public void Ipv4Src_on_TCP_updates_the_header_and_TCP_checksums()
    {
        var packet = TestFrames.Load(TestFrames.Ipv4Tcp().Build());

        Assert.True(Apply(packet, SetFieldTarget.Ipv4Src, V4("192.168.77.5"), 0xFFFF_FFFF));

        byte[] frame = TestFrames.Bytes(packet);
        var ip = TestFrames.Parse(frame).Extract<IPv4Packet>();
        Assert.Equal(IPAddress.Parse("192.168.77.5"), ip.SourceAddress);
        Assert.Equal(IPAddress.Parse(TestFrames.V4Dst), ip.DestinationAddress);
        ChecksumAssert.AllValid(frame);
    }

    [Fact]
    public void Ipv4Dst_with_a_partial_mask_keeps_the_unmasked_bits()
    {
        var packet = TestFrames.Load(TestFrames.Ipv4Udp(dst: "10.1.2.3").Build());

        Assert.True(Apply(packet, SetFieldTarget.Ipv4Dst, V4("172.16.99.200"), V4("255.255.0.0")));

        byte[] frame = TestFrames.Bytes(packet);
        Assert.Equal(IPAddress.Parse("172.16.2.3"), TestFrames.Parse(frame).Extract<IPv4Packet>().DestinationAddress);
        ChecksumAssert.AllValid(frame);
    }

    [Fact]
    public void Value_bits_outside_the_mask_are_ignored()
    {
        var packet = TestFrames.Load(TestFrames.Ipv4Tcp(src: "10.0.0.1").Build());

        Assert.True(Apply(packet, SetFieldTarget.Ipv4Src, V4("99.99.99.99"), V4("0.0.0.255")));

        Assert.Equal(IPAddress.Parse("10.0.0.99"), TestFrames.Parse(TestFrames.Bytes(packet)).Extract<IPv4Packet>().SourceAddress);
    }

    [Fact]
    public void Ipv4Src_on_UDP_with_a_zero_checksum_leaves_it_zero()
    {
        var packet = TestFrames.Load(TestFrames.Ipv4Udp(zeroChecksum: true).Build());

        Assert.True(Apply(packet, SetFieldTarget.Ipv4Src, V4("203.0.113.9"), 0xFFFF_FFFF));

        byte[] frame = TestFrames.Bytes(packet);
        var parsed = TestFrames.Parse(frame);
        Assert.Equal(0, parsed.Extract<UdpPacket>().Checksum);
        Assert.Equal(IPAddress.Parse("203.0.113.9"), parsed.Extract<IPv4Packet>().SourceAddress);
        ChecksumAssert.AllValid(frame);
    }

    [Fact]
    public void Ipv4Dst_on_ICMP_leaves_the_ICMP_checksum_alone()
    {
        // ICMPv4 has no pseudo-header: only the IP header checksum moves.
        byte[] original = TestFrames.Ipv4Icmp().Build();
        var packet = TestFrames.Load(original);

        Assert.True(Apply(packet, SetFieldTarget.Ipv4Dst, V4("10.200.0.1"), 0xFFFF_FFFF));

        byte[] frame = TestFrames.Bytes(packet);
        Assert.Equal(original.AsSpan(L3 + 20).ToArray(), frame.AsSpan(L3 + 20).ToArray());
        ChecksumAssert.AllValid(frame);
    }

    [Fact]
    public void Ipv4Src_on_a_later_fragment_changes_only_the_IP_header()
    {
        byte[] original = TestFrames.Ipv4LaterFragment().Build();
        var packet = TestFrames.Load(original);
        Assert.Equal(-1, packet.L4Offset);

        Assert.True(Apply(packet, SetFieldTarget.Ipv4Src, V4("10.0.0.77"), 0xFFFF_FFFF));

        byte[] frame = TestFrames.Bytes(packet);
        Assert.Equal(original.AsSpan(L3 + 20).ToArray(), frame.AsSpan(L3 + 20).ToArray());
        Assert.Equal(IPAddress.Parse("10.0.0.77"), TestFrames.Parse(frame).Extract<IPv4Packet>().SourceAddress);
        ChecksumAssert.AllValid(frame);
    }

    [Fact]
    public void Ipv4_targets_on_an_IPv6_packet_do_nothing()
    {
        byte[] original = TestFrames.Ipv6Tcp().Build();
        var packet = TestFrames.Load(original);

        Assert.False(Apply(packet, SetFieldTarget.Ipv4Src, V4("1.2.3.4"), 0xFFFF_FFFF));
        Assert.False(Apply(packet, SetFieldTarget.Ipv4Dst, V4("1.2.3.4"), 0xFFFF_FFFF));

        Assert.Equal(original, TestFrames.Bytes(packet));
    }

    [Fact]
    public void Network_targets_without_an_L3_offset_do_nothing()
    {
        byte[] original = TestFrames.Ipv4Tcp().Build();
        var packet = TestFrames.Load(original);
        packet.L3Offset = -1;
        packet.L4Offset = -1;

        Assert.False(Apply(packet, SetFieldTarget.Ipv4Src, V4("1.2.3.4"), 0xFFFF_FFFF));
        Assert.False(Apply(packet, SetFieldTarget.NwTtl, 1, 0xFF));
        Assert.False(Apply(packet, SetFieldTarget.TpDst, 8080, 0xFFFF));

        Assert.Equal(original, TestFrames.Bytes(packet));
    }

    // ---- IPv6 addresses ----

    [Theory]
    [InlineData(6)]
    [InlineData(17)]
    [InlineData(58)]
    public void Ipv6Src_and_Ipv6Dst_update_the_transport_checksum(int protocol)
    {
        byte[] original = protocol switch
        {
            6 => TestFrames.Ipv6Tcp().Build(),
            17 => TestFrames.Ipv6Udp().Build(),
            _ => TestFrames.Ipv6Icmp().Build(),
        };
        var packet = TestFrames.Load(original);

        Assert.True(Apply(packet, SetFieldTarget.Ipv6Src, V6("2001:db8:aaaa::17"), UInt128.MaxValue));
        Assert.True(Apply(packet, SetFieldTarget.Ipv6Dst, V6("2001:db8:bbbb::42"), UInt128.MaxValue));

        byte[] frame = TestFrames.Bytes(packet);
        var ip = TestFrames.Parse(frame).Extract<IPv6Packet>();
        Assert.Equal(IPAddress.Parse("2001:db8:aaaa::17"), ip.SourceAddress);
        Assert.Equal(IPAddress.Parse("2001:db8:bbbb::42"), ip.DestinationAddress);
        Assert.NotEqual(original.AsSpan(L3 + 40).ToArray(), frame.AsSpan(L3 + 40).ToArray());
        ChecksumAssert.AllValid(frame);
    }

    [Fact]
    public void Ipv6Dst_with_a_prefix_mask_keeps_the_interface_identifier()
    {
        var packet = TestFrames.Load(TestFrames.Ipv6Udp(dst: "fd00::abcd:1").Build());
        UInt128 prefix64 = UInt128.MaxValue << 64;

        Assert.True(Apply(packet, SetFieldTarget.Ipv6Dst, V6("2001:db8:1:2:ffff:ffff:ffff:ffff"), prefix64));

        byte[] frame = TestFrames.Bytes(packet);
        Assert.Equal(IPAddress.Parse("2001:db8:1:2::abcd:1"), TestFrames.Parse(frame).Extract<IPv6Packet>().DestinationAddress);
        ChecksumAssert.AllValid(frame);
    }

    [Fact]
    public void Ipv6Src_behind_a_hop_by_hop_header_updates_the_TCP_checksum()
    {
        byte[] hopByHop = [0, 0, 1, 4, 0, 0, 0, 0]; // next header (patched), length 0, PadN
        var packet = TestFrames.Load(TestFrames.Ipv6TcpWithExtension(hopByHop, extensionType: 0).Build());
        Assert.Equal(L3 + 48, packet.L4Offset);

        Assert.True(Apply(packet, SetFieldTarget.Ipv6Src, V6("fd00::99"), UInt128.MaxValue));

        byte[] frame = TestFrames.Bytes(packet);
        Assert.Equal(0xFFFF, TcpSum(frame, packet.L4Offset, V6("fd00::99"), V6(TestFrames.V6Dst)));
    }

    [Fact]
    public void Ipv6Dst_under_a_routing_header_with_segments_left_leaves_the_TCP_checksum()
    {
        // The pseudo-header holds the final destination (the routing header's last address).
        const string finalDestination = "fd00::ff";
        byte[] routing = new byte[24];
        routing[1] = 2; // length in 8-byte units after the first 8
        routing[2] = 0; // type 0
        routing[3] = 1; // segments left
        IPAddress.Parse(finalDestination).GetAddressBytes().CopyTo(routing, 8);
        byte[] original = TestFrames.Ipv6TcpWithExtension(routing, extensionType: 43, pseudoDestination: finalDestination).Build();
        var packet = TestFrames.Load(original);
        int l4 = packet.L4Offset;

        Assert.True(Apply(packet, SetFieldTarget.Ipv6Dst, V6("fd00::5"), UInt128.MaxValue));
        Assert.Equal(original.AsSpan(l4).ToArray(), TestFrames.Bytes(packet).AsSpan(l4).ToArray());

        Assert.True(Apply(packet, SetFieldTarget.Ipv6Src, V6("fd00::6"), UInt128.MaxValue));
        Assert.Equal(0xFFFF, TcpSum(TestFrames.Bytes(packet), l4, V6("fd00::6"), V6(finalDestination)));
    }

    // ---- TOS and TTL ----

    [Fact]
    public void NwTos_with_the_DSCP_mask_keeps_the_IPv4_ECN_bits()
    {
        var packet = TestFrames.Load(TestFrames.Ipv4Tcp(tos: 0x03).Build());

        Assert.True(Apply(packet, SetFieldTarget.NwTos, 0xb8, 0xfc));

        byte[] frame = TestFrames.Bytes(packet);
        Assert.Equal(0xbb, TestFrames.Parse(frame).Extract<IPv4Packet>().TypeOfService);
        ChecksumAssert.AllValid(frame);
    }

    [Fact]
    public void NwTos_with_a_full_mask_replaces_the_IPv4_TOS_ECN_included()
    {
        var packet = TestFrames.Load(TestFrames.Ipv4Udp(tos: 0x03).Build());

        Assert.True(Apply(packet, SetFieldTarget.NwTos, 0x28, 0xff));

        byte[] frame = TestFrames.Bytes(packet);
        Assert.Equal(0x28, TestFrames.Parse(frame).Extract<IPv4Packet>().TypeOfService);
        ChecksumAssert.AllValid(frame);
    }

    [Fact]
    public void NwTos_on_IPv6_sets_the_traffic_class_and_keeps_ECN_and_the_flow_label()
    {
        var packet = TestFrames.Load(TestFrames.Ipv6Tcp(trafficClass: 0x02, flowLabel: 0xabcde).Build());

        Assert.True(Apply(packet, SetFieldTarget.NwTos, 0x48, 0xfc));

        byte[] frame = TestFrames.Bytes(packet);
        var ip = TestFrames.Parse(frame).Extract<IPv6Packet>();
        Assert.Equal(0x4a, ip.TrafficClass);
        Assert.Equal(0xabcde, ip.FlowLabel);
        Assert.Equal(6, frame[L3] >> 4);
        ChecksumAssert.AllValid(frame);
    }

    [Fact]
    public void NwTtl_sets_the_IPv4_TTL_and_the_IPv6_hop_limit()
    {
        var v4 = TestFrames.Load(TestFrames.Ipv4Tcp(ttl: 64).Build());
        var v6 = TestFrames.Load(TestFrames.Ipv6Udp(hopLimit: 64).Build());

        Assert.True(Apply(v4, SetFieldTarget.NwTtl, 9, 0xff));
        Assert.True(Apply(v6, SetFieldTarget.NwTtl, 0x0f, 0x0f)); // 64 = 0x40 -> 0x4f

        Assert.Equal(9, TestFrames.Parse(TestFrames.Bytes(v4)).Extract<IPv4Packet>().TimeToLive);
        Assert.Equal(0x4f, TestFrames.Parse(TestFrames.Bytes(v6)).Extract<IPv6Packet>().HopLimit);
        ChecksumAssert.AllValid(TestFrames.Bytes(v4));
        ChecksumAssert.AllValid(TestFrames.Bytes(v6));
    }

    // ---- Ports ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TpSrc_and_TpDst_on_TCP_update_the_checksum(bool ipv6)
    {
        var packet = TestFrames.Load(ipv6 ? TestFrames.Ipv6Tcp(sport: 40000, dport: 443).Build() : TestFrames.Ipv4Tcp(sport: 40000, dport: 80).Build());

        Assert.True(Apply(packet, SetFieldTarget.TpSrc, 1025, 0xFFFF));
        Assert.True(Apply(packet, SetFieldTarget.TpDst, 8443, 0xFFFF));

        byte[] frame = TestFrames.Bytes(packet);
        var tcp = TestFrames.Parse(frame).Extract<TcpPacket>();
        Assert.Equal(1025, tcp.SourcePort);
        Assert.Equal(8443, tcp.DestinationPort);
        ChecksumAssert.AllValid(frame);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TpDst_on_UDP_with_a_partial_mask_changes_the_masked_bits(bool ipv6)
    {
        var packet = TestFrames.Load(ipv6 ? TestFrames.Ipv6Udp(dport: 0x1234).Build() : TestFrames.Ipv4Udp(dport: 0x1234).Build());

        Assert.True(Apply(packet, SetFieldTarget.TpDst, 0xAB00, 0xFF00));

        byte[] frame = TestFrames.Bytes(packet);
        Assert.Equal(0xAB34, TestFrames.Parse(frame).Extract<UdpPacket>().DestinationPort);
        ChecksumAssert.AllValid(frame);
    }

    [Fact]
    public void TpSrc_on_UDP_with_a_zero_checksum_changes_the_port_and_keeps_zero()
    {
        var packet = TestFrames.Load(TestFrames.Ipv4Udp(sport: 5353, zeroChecksum: true).Build());

        Assert.True(Apply(packet, SetFieldTarget.TpSrc, 6000, 0xFFFF));

        var udp = TestFrames.Parse(TestFrames.Bytes(packet)).Extract<UdpPacket>();
        Assert.Equal(6000, udp.SourcePort);
        Assert.Equal(0, udp.Checksum);
    }

    [Fact]
    public void A_UDP_checksum_that_comes_out_zero_is_sent_as_all_ones()
    {
        byte[] original = TestFrames.Ipv4Udp(sport: 5353).Build();
        ushort csum = BinaryPrimitives.ReadUInt16BigEndian(original.AsSpan(L3 + 20 + 6));
        ushort port = FindPortGivingZeroChecksum(csum, 5353);
        var packet = TestFrames.Load(original);

        Assert.True(Apply(packet, SetFieldTarget.TpSrc, port, 0xFFFF));

        byte[] frame = TestFrames.Bytes(packet);
        var udp = TestFrames.Parse(frame).Extract<UdpPacket>();
        Assert.Equal(port, udp.SourcePort);
        Assert.Equal(0xFFFF, udp.Checksum);
        Assert.True(udp.ValidUdpChecksum);
    }

    [Fact]
    public void Port_targets_on_ICMP_do_nothing()
    {
        byte[] v4 = TestFrames.Ipv4Icmp().Build();
        byte[] v6 = TestFrames.Ipv6Icmp().Build();
        var p4 = TestFrames.Load(v4);
        var p6 = TestFrames.Load(v6);

        Assert.False(Apply(p4, SetFieldTarget.TpSrc, 1, 0xFFFF));
        Assert.False(Apply(p6, SetFieldTarget.TpDst, 1, 0xFFFF));

        Assert.Equal(v4, TestFrames.Bytes(p4));
        Assert.Equal(v6, TestFrames.Bytes(p6));
    }

    [Fact]
    public void Port_targets_on_a_later_fragment_do_nothing()
    {
        byte[] original = TestFrames.Ipv4LaterFragment().Build();
        var packet = TestFrames.Load(original);

        Assert.False(Apply(packet, SetFieldTarget.TpDst, 1, 0xFFFF));

        Assert.Equal(original, TestFrames.Bytes(packet));
    }

    [Fact]
    public void Port_targets_on_a_truncated_TCP_header_do_nothing()
    {
        byte[] full = TestFrames.Ipv4Tcp(payload: []).Build();
        byte[] truncated = full.AsSpan(0, L3 + 20 + 12).ToArray();
        var packet = TestFrames.Load(truncated);

        Assert.False(Apply(packet, SetFieldTarget.TpSrc, 1, 0xFFFF));

        Assert.Equal(truncated, TestFrames.Bytes(packet));
    }

    [Fact]
    public void TpSrc_on_SCTP_keeps_the_CRC32c_valid_over_the_datagram_without_padding()
    {
        byte[] original = TestFrames.Ipv4Sctp(sport: 2905).Build();
        Assert.Equal(60, original.Length); // 50 bytes of frame and 10 of padding
        var packet = TestFrames.Load(original);

        Assert.True(Apply(packet, SetFieldTarget.TpSrc, 3868, 0xFFFF));

        byte[] frame = TestFrames.Bytes(packet);
        Assert.Equal(3868, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(L3 + 20)));
        Assert.Equal(SctpCrc(frame), Crc32c.ReadSctp(frame.AsSpan(L3 + 20 + 8)));
        Assert.NotEqual(Crc32c.ReadSctp(original.AsSpan(L3 + 20 + 8)), Crc32c.ReadSctp(frame.AsSpan(L3 + 20 + 8)));
        ChecksumAssert.AllValid(frame);
    }

    [Fact]
    public void TpDst_on_SCTP_with_a_corrupt_CRC_keeps_it_corrupt_by_the_same_error()
    {
        byte[] original = TestFrames.Ipv4Sctp().Build();
        original[L3 + 20 + 8] ^= 0x5a;
        var packet = TestFrames.Load(original);

        Assert.True(Apply(packet, SetFieldTarget.TpDst, 9, 0xFFFF));

        byte[] frame = TestFrames.Bytes(packet);
        Assert.Equal(SctpCrc(frame) ^ 0x5au, Crc32c.ReadSctp(frame.AsSpan(L3 + 20 + 8)));
    }

    // ---- VLAN-tagged frames ----

    [Fact]
    public void Set_fields_find_their_headers_behind_a_VLAN_tag()
    {
        var packet = TestFrames.Load(TestFrames.Ipv4Tcp().Vlan(0x2064).Build());
        Assert.Equal(L3 + 4, packet.L3Offset);

        Assert.True(Apply(packet, SetFieldTarget.Ipv4Dst, V4("10.99.0.1"), 0xFFFF_FFFF));
        Assert.True(Apply(packet, SetFieldTarget.TpDst, 8080, 0xFFFF));
        Assert.True(Apply(packet, SetFieldTarget.NwTtl, 3, 0xFF));

        byte[] frame = TestFrames.Bytes(packet);
        var parsed = TestFrames.Parse(frame);
        Assert.Equal(100, parsed.Extract<Ieee8021QPacket>().VlanIdentifier);
        Assert.Equal(IPAddress.Parse("10.99.0.1"), parsed.Extract<IPv4Packet>().DestinationAddress);
        Assert.Equal(3, parsed.Extract<IPv4Packet>().TimeToLive);
        Assert.Equal(8080, parsed.Extract<TcpPacket>().DestinationPort);
        ChecksumAssert.AllValid(frame);
    }

    [Fact]
    public void Set_fields_on_a_tagged_IPv6_frame_keep_the_checksums_valid()
    {
        var packet = TestFrames.Load(TestFrames.Ipv6Udp().Vlan(7).Build());

        Assert.True(Apply(packet, SetFieldTarget.Ipv6Src, V6("fd00::beef"), UInt128.MaxValue));
        Assert.True(Apply(packet, SetFieldTarget.TpSrc, 7777, 0xFFFF));

        byte[] frame = TestFrames.Bytes(packet);
        Assert.Equal(7777, TestFrames.Parse(frame).Extract<UdpPacket>().SourcePort);
        ChecksumAssert.AllValid(frame);
    }

    internal static bool Apply(Datapath.Packets.Packet packet, SetFieldTarget target, UInt128 value, UInt128 mask) =>
        SetFieldAction.Apply(packet, new SetFieldArgs(target, value, mask));

    internal static uint V4(string address) => BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(address).GetAddressBytes());

    internal static UInt128 V6(string address) => BinaryPrimitives.ReadUInt128BigEndian(IPAddress.Parse(address).GetAddressBytes());

    // The one's-complement sum of pseudo-header and segment: all ones when the checksum is right.
    private static ushort TcpSum(byte[] frame, int l4, UInt128 src, UInt128 dst)
    {
        ReadOnlySpan<byte> segment = frame.AsSpan(l4);
        return Checksum.Fold(Checksum.Accumulate(Checksum.PseudoHeaderV6(src, dst, 6, segment.Length), segment));
    }

    // The CRC the SCTP packet of this IPv4 frame should carry: over the IP payload only, field zeroed.
    private static uint SctpCrc(byte[] frame)
    {
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(L3 + 2));
        byte[] sctp = frame.AsSpan(L3 + 20, totalLength - 20).ToArray();
        sctp.AsSpan(8, 4).Clear();
        return Crc32c.Compute(sctp);
    }

    // A new port value for which the RFC 1624 update lands on a zero checksum.
    private static ushort FindPortGivingZeroChecksum(ushort checksum, ushort oldPort)
    {
        for (int port = 0; port <= ushort.MaxValue; port++)
        {
            if (Checksum.Update16(checksum, oldPort, (ushort)port) == 0)
            {
                return (ushort)port;
            }
        }

        throw new InvalidOperationException("No port gives a zero checksum.");
    }
}
