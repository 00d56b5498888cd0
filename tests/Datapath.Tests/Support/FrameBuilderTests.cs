using System.Net;
using System.Net.NetworkInformation;
using PacketDotNet;
using TestSupport.Frames;
using PdnPacket = PacketDotNet.Packet;

namespace Datapath.Tests.Support;

/// <summary>
/// The tests' one frame builder (tests/TestSupport) checked against PacketDotNet, which shares no
/// code with it or with the product: every field it writes, every length and every checksum, for
/// each layer it offers. Where PacketDotNet 1.4.8 has no parser (SCTP, IPv6 extension chains and
/// fragment headers) the bytes are checked against the RFC layout or a reference vector.
/// </summary>
public sealed class FrameBuilderTests
{
    [Fact]
    public void Tcp_over_ipv4_carries_every_field_it_was_given_with_valid_checksums()
    {
        byte[] options = [2, 4, 0x05, 0xB4, 1, 3, 3, 7];
        byte[] frame = Frame.Ethernet("0a:1b:2c:3d:4e:5f", "02:00:00:00:00:09")
            .Ipv4("172.16.5.4", "10.9.8.7").Ttl(37).Tos(0xB9).Id(0xBEEF).DontFragment()
            .Tcp(40000, 443, TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Cwr | TcpFlags.Ns, seq: 0x01020304, ack: 0xA0B0C0D0, window: 500)
            .TcpOptions(options).Urgent(9).Payload(1, 2, 3)
            .Build();

        var eth = Parse(frame);
        Assert.Equal(PhysicalAddress.Parse("0A-1B-2C-3D-4E-5F"), eth.SourceHardwareAddress);
        Assert.Equal(PhysicalAddress.Parse("02-00-00-00-00-09"), eth.DestinationHardwareAddress);
        Assert.Equal(EthernetType.IPv4, eth.Type);
        var ip = eth.Extract<IPv4Packet>();
        Assert.Equal((IPAddress.Parse("172.16.5.4"), IPAddress.Parse("10.9.8.7")), (ip.SourceAddress, ip.DestinationAddress));
        Assert.Equal((37, 0xB9, 0xBEEF, 2, 0), (ip.TimeToLive, ip.TypeOfService, (int)ip.Id, ip.FragmentFlags, ip.FragmentOffset));
        Assert.Equal((5, 20 + 28 + 3, ProtocolType.Tcp), (ip.HeaderLength, ip.TotalLength, ip.Protocol));
        Assert.True(ip.ValidIPChecksum);
        var tcp = eth.Extract<TcpPacket>();
        Assert.Equal((40000, 443, 0x01020304u, 0xA0B0C0D0u, 500, 9), ((int)tcp.SourcePort, (int)tcp.DestinationPort, tcp.SequenceNumber, tcp.AcknowledgmentNumber, (int)tcp.WindowSize, (int)tcp.UrgentPointer));
        Assert.True(tcp.Synchronize && tcp.Acknowledgment && tcp.CongestionWindowReduced && tcp.NonceSum);
        Assert.False(tcp.Finished || tcp.Reset || tcp.Push || tcp.Urgent || tcp.ExplicitCongestionNotificationEcho);
        Assert.Equal(7, tcp.DataOffset);
        Assert.Equal(options, tcp.Options);
        Assert.Equal([1, 2, 3], tcp.PayloadData);
        Assert.True(tcp.ValidTcpChecksum);
    }

    [Fact]
    public void Udp_over_ipv4_has_its_length_and_checksum_and_a_zero_checksum_when_asked()
    {
        var udp = Parse(Frame.Ipv4("10.0.0.1", "10.0.0.2").Udp(5353, 53).Payload(12).Build()).Extract<UdpPacket>();
        Assert.Equal((5353, 53, 20), (udp.SourcePort, udp.DestinationPort, udp.Length));
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (byte)i), udp.PayloadData);
        Assert.True(udp.ValidUdpChecksum);

        var none = Parse(Frame.Ipv4("10.0.0.1", "10.0.0.2").Udp(5353, 53).Checksum(0).Build()).Extract<UdpPacket>();
        Assert.Equal(0, none.Checksum);
    }

    [Fact]
    public void A_wrong_checksum_is_written_only_when_asked()
    {
        var eth = Parse(Frame.Ipv4("10.0.0.1", "10.0.0.2").HeaderChecksum(0xDEAD).Tcp(1, 2).Checksum(0xBEEF).Build());

        Assert.Equal(0xDEAD, eth.Extract<IPv4Packet>().Checksum);
        Assert.False(eth.Extract<IPv4Packet>().ValidIPChecksum);
        Assert.Equal(0xBEEF, eth.Extract<TcpPacket>().Checksum);
        Assert.False(eth.Extract<TcpPacket>().ValidTcpChecksum);
    }

    [Fact]
    public void Ipv4_options_lengthen_the_header_and_keep_the_checksum_valid()
    {
        byte[] options = [0x94, 4, 0, 0, 1, 1, 1, 0];
        var ip = Parse(Frame.Ipv4("10.0.0.1", "10.0.0.2").Ipv4Options(options).Udp(1000, 2000).Build()).Extract<IPv4Packet>();

        Assert.Equal(7, ip.HeaderLength);
        Assert.Equal(options, ip.HeaderData[20..]);
        Assert.True(ip.ValidIPChecksum);
        Assert.True(ip.Extract<UdpPacket>().ValidUdpChecksum);
        Assert.Equal(2000, ip.Extract<UdpPacket>().DestinationPort);
    }

    [Fact]
    public void Icmp_echo_and_an_error_quoting_a_packet_have_valid_checksums()
    {
        var echo = Parse(Frame.Ipv4("10.0.0.1", "10.0.0.2").IcmpEcho(8, 0x1DE7, 3).Payload(0xAA, 0xBB).Build()).Extract<IcmpV4Packet>();
        Assert.Equal(IcmpV4TypeCode.EchoRequest, echo.TypeCode);
        Assert.Equal((0x1DE7, 3), (echo.Id, echo.Sequence));
        Assert.True(echo.ValidIcmpChecksum);

        byte[] offending = Frame.Ipv4("10.0.0.1", "10.0.0.2").Udp(4000, 53).Payload(40).Build();
        var error = Parse(Frame.Ipv4("10.0.0.9", "10.0.0.1").IcmpError(3, 3, offending, quotedBytes: 28).Build()).Extract<IcmpV4Packet>();
        Assert.Equal(IcmpV4TypeCode.UnreachablePort, error.TypeCode);
        Assert.True(error.ValidIcmpChecksum);
        Assert.Equal(offending[14..42], error.Bytes[8..]);
    }

    [Fact]
    public void Ipv6_carries_class_label_and_hop_limit_and_its_transports_have_valid_checksums()
    {
        byte[] frame = Frame.Ipv6("2001:db8::7", "2001:db8:1::9").Tos(0x6D).FlowLabel(0xABCDE).Ttl(37).Tcp(8080, 51000, TcpFlags.Fin | TcpFlags.Ack).Payload(5).Build();

        var eth = Parse(frame);
        Assert.Equal(EthernetType.IPv6, eth.Type);
        var ip = eth.Extract<IPv6Packet>();
        Assert.Equal((0x6D, 0xABCDE, 37, 25, ProtocolType.Tcp), (ip.TrafficClass, ip.FlowLabel, ip.HopLimit, (int)ip.PayloadLength, ip.NextHeader));
        Assert.Equal(IPAddress.Parse("2001:db8:1::9"), ip.DestinationAddress);
        Assert.True(eth.Extract<TcpPacket>().ValidTcpChecksum);
        Assert.True(Parse(Frame.Ipv6("fd00::1", "fd00::2").Udp(546, 547).Payload(3).Build()).Extract<UdpPacket>().ValidUdpChecksum);

        var icmp = Parse(Frame.Ipv6("fd00::1", "fd00::2").IcmpEcho(128, 77).Payload(0xAA, 0xBB, 0xCC).Build()).Extract<IcmpV6Packet>();
        Assert.Equal(IcmpV6Type.EchoRequest, icmp.Type);
        Assert.True(icmp.ValidIcmpChecksum);
    }

    [Fact]
    public void Vlan_tags_are_written_outermost_first()
    {
        byte[] frame = Frame.Ethernet().Vlan(0x0FFF, tpid: 0x88a8).Vlan(0x2064).Ipv4("10.0.0.1", "10.0.0.2").Udp(1, 2).Build();

        Assert.Equal([0x88, 0xa8, 0x0F, 0xFF, 0x81, 0x00, 0x20, 0x64, 0x08, 0x00], frame[12..22]);
        var inner = Parse(frame[..12].Concat(frame[16..]).ToArray());
        var tag = inner.Extract<Ieee8021QPacket>();
        Assert.Equal((100, EthernetType.IPv4), ((int)tag.VlanIdentifier, tag.Type));
        Assert.Equal(IeeeP8021PPriority.Background, tag.PriorityControlPoint);
        Assert.True(inner.Extract<UdpPacket>().ValidUdpChecksum);
    }

    [Fact]
    public void Arp_fields_are_where_PacketDotNet_reads_them()
    {
        var arp = Parse(Frame.Ethernet("02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff").Arp(2, "02:00:00:00:00:01", "10.0.0.1", "0a:1b:2c:3d:4e:5f", "192.168.7.9").Build()).Extract<ArpPacket>();

        Assert.Equal(ArpOperation.Response, arp.Operation);
        Assert.Equal((LinkLayers.Ethernet, EthernetType.IPv4), (arp.HardwareAddressType, arp.ProtocolAddressType));
        Assert.Equal((PhysicalAddress.Parse("02-00-00-00-00-01"), IPAddress.Parse("10.0.0.1")), (arp.SenderHardwareAddress, arp.SenderProtocolAddress));
        Assert.Equal((PhysicalAddress.Parse("0A-1B-2C-3D-4E-5F"), IPAddress.Parse("192.168.7.9")), (arp.TargetHardwareAddress, arp.TargetProtocolAddress));
    }

    [Fact]
    public void Ipv4_fragments_share_the_identification_and_their_data_rebuilds_the_datagram()
    {
        var builder = Frame.Ipv4("10.0.0.1", "10.0.0.2").Id(7).Udp(4000, 5001).Payload(4000);
        byte[] whole = builder.Build();

        var frames = builder.BuildFragments(1480);
        var fragments = frames.Select(f => Parse(f).Extract<IPv4Packet>()).ToList();

        Assert.Equal([(0, 1), (1480, 1), (2960, 0)], fragments.Select(f => (f.FragmentOffset * 8, f.FragmentFlags)));
        Assert.All(fragments, f => Assert.Equal(7, f.Id));
        Assert.All(fragments, f => Assert.True(f.ValidIPChecksum));
        Assert.Equal(frames.Select(f => f.Length - 14), fragments.Select(f => f.TotalLength));
        Assert.Equal(whole[34..], frames.SelectMany(f => f[34..]).ToArray());
    }

    [Fact]
    public void A_single_fragment_sets_its_offset_and_more_flag()
    {
        var ip = Parse(Frame.Ipv4("10.0.0.1", "10.0.0.2").Id(7).Fragment(1480, more: true).Transport(6, new byte[16]).Build()).Extract<IPv4Packet>();

        Assert.Equal((185, 1, ProtocolType.Tcp, 36), (ip.FragmentOffset, ip.FragmentFlags, ip.Protocol, ip.TotalLength));
        Assert.True(ip.ValidIPChecksum);
    }

    [Fact]
    public void Ipv6_extension_headers_chain_to_the_transport_and_pad_to_eight_bytes()
    {
        byte[] frame = Frame.Ipv6("fd00::1", "fd00::2").HopByHop().DestinationOptions(0x1E, 2, 0, 0).Udp(12345, 53).Build();

        var ip = Parse(frame).Extract<IPv6Packet>();
        Assert.Equal(ProtocolType.IPv6HopByHopOptions, ip.NextHeader);
        Assert.Equal(8 + 8 + 8, ip.PayloadLength);
        // RFC 8200 4.3 and 4.6: next header, length in 8-byte units beyond the first, options, padding.
        Assert.Equal([60, 0, 1, 4, 0, 0, 0, 0], frame[54..62]);
        Assert.Equal([17, 0, 0x1E, 2, 0, 0, 1, 0], frame[62..70]);
        var udp = new UdpPacket(new PacketDotNet.Utils.ByteArraySegment(frame[70..]));
        Assert.Equal(53, udp.DestinationPort);
        Assert.Equal(ChecksumOver(frame, "fd00::1", "fd00::2", 17, frame[70..]), udp.Checksum);
    }

    [Fact]
    public void A_routing_header_moves_the_pseudo_header_destination_to_the_final_one()
    {
        byte[] routing = [0, 2, 0, 1, 0, 0, 0, 0, .. IPAddress.Parse("fd00::99").GetAddressBytes()];
        byte[] frame = Frame.Ipv6("fd00::1", "fd00::2").Extension(43, routing).PseudoHeaderDestination("fd00::99").Tcp(1, 2).Build();

        Assert.Equal(6, frame[54]);
        var tcp = new TcpPacket(new PacketDotNet.Utils.ByteArraySegment(frame[78..]));
        Assert.Equal(ChecksumOver(frame, "fd00::1", "fd00::99", 6, frame[78..]), tcp.Checksum);
    }

    [Fact]
    public void Ipv6_fragments_carry_a_fragment_header_and_their_data_rebuilds_the_datagram()
    {
        var builder = Frame.Ipv6("fd00::1", "fd00::2").Id(0xCAFE).Udp(4000, 5001).Payload(3000);
        byte[] whole = builder.Build();

        var fragments = builder.BuildFragments(1232);

        Assert.Equal(3, fragments.Count);
        var data = new List<byte>();
        for (int i = 0; i < fragments.Count; i++)
        {
            var ip = Parse(fragments[i]).Extract<IPv6Packet>();
            Assert.Equal(ProtocolType.IPv6FragmentHeader, ip.NextHeader);
            byte[] header = fragments[i][54..62];
            Assert.Equal(17, header[0]);
            Assert.Equal((i * 1232) | (i < 2 ? 1 : 0), (header[2] << 8) | header[3]);
            Assert.Equal([0, 0, 0xCA, 0xFE], header[4..8]);
            Assert.Equal(ip.PayloadLength - 8, fragments[i].Length - 62);
            data.AddRange(fragments[i][62..]);
        }

        Assert.Equal(whole[54..], data.ToArray());
    }

    /// <summary>Reference values from scapy 2.5.0 (<c>bytes(SCTP(sport=2905, dport=2906, tag=0xCAFEF00D)/SCTPChunkCookieAck())</c>, and a DATA chunk).</summary>
    [Theory]
    [InlineData(2905, 2906, 0xCAFEF00Du, "0b000004", "0b590b5acafef00de85cf0330b000004")]
    [InlineData(1, 2, 0x01020304u, "0000001c0000000700010000000000006" + "8656c6c6f20776f726c6421", "0001000201020304c37d79c00000001c00000007000100000000000068656c6c6f20776f726c6421")]
    public void Sctp_carries_the_crc32c_that_scapy_computes(ushort sport, ushort dport, uint tag, string chunks, string expected)
    {
        byte[] frame = Frame.Ipv4("10.0.0.1", "10.0.0.2").Sctp(sport, dport, tag, Convert.FromHexString(chunks)).Build();

        Assert.Equal(expected, Convert.ToHexString(frame[34..]).ToLowerInvariant());
        Assert.Equal(132, (int)Parse(frame).Extract<IPv4Packet>().Protocol);
    }

    [Fact]
    public void Padding_fills_a_short_frame_with_zeros_and_leaves_the_datagram_as_it_was()
    {
        byte[] plain = Frame.Ipv4("10.0.0.1", "10.0.0.2").Udp(1, 2).Build();
        byte[] padded = Frame.Ipv4("10.0.0.1", "10.0.0.2").Udp(1, 2).PadTo(60).Build();

        Assert.Equal(42, plain.Length);
        Assert.Equal([.. plain, .. new byte[18]], padded);
        Assert.True(Parse(padded).Extract<UdpPacket>().ValidUdpChecksum);
    }

    [Fact]
    public void Raw_layers_are_written_as_given()
    {
        byte[] llc = [0x42, 0x42, 0x03, 0, 0, 0];
        Assert.Equal([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0, 6, .. llc], Frame.Ethernet().EtherType(6).Payload(llc).Build());

        byte[] igmp = [0x16, 0, 0, 0, 239, 1, 2, 3];
        var ip = Parse(Frame.Ipv4("10.0.0.1", "10.0.0.2").Transport(2, igmp).Build()).Extract<IPv4Packet>();
        Assert.Equal((ProtocolType.Igmp, 28), (ip.Protocol, ip.TotalLength));
        Assert.Equal(igmp, ip.PayloadData ?? ip.PayloadPacket.Bytes);
    }

    /// <summary>Random well-formed frames: PacketDotNet finds every checksum valid and every length consistent.</summary>
    [Fact]
    public void Random_frames_parse_with_valid_checksums_and_lengths()
    {
        var random = new Random(20261204);
        for (int i = 0; i < 500; i++)
        {
            bool v6 = random.Next(2) == 0;
            var builder = Frame.Ethernet();
            if (random.Next(3) == 0)
            {
                builder.Vlan((ushort)random.Next(0x10000));
            }

            builder = v6
                ? builder.Ipv6(RandomAddress(random, 16), RandomAddress(random, 16)).FlowLabel(random.Next(0x100000))
                : builder.Ipv4(RandomAddress(random, 4), RandomAddress(random, 4)).Id((uint)random.Next(0x10000));
            builder.Ttl((byte)random.Next(256)).Tos((byte)random.Next(256));
            int kind = random.Next(3);
            _ = kind switch
            {
                0 => builder.Tcp((ushort)random.Next(0x10000), (ushort)random.Next(0x10000), (ushort)random.Next(0x1000), (uint)random.NextInt64(1L << 32), (uint)random.NextInt64(1L << 32)),
                1 => builder.Udp((ushort)random.Next(0x10000), (ushort)random.Next(0x10000)),
                _ => builder.IcmpEcho(v6 ? (byte)128 : (byte)8, (ushort)random.Next(0x10000)),
            };
            byte[] payload = new byte[random.Next(0, 1400)];
            random.NextBytes(payload);
            byte[] frame = builder.Payload(payload).Build();

            var eth = Parse(frame);
            if (v6)
            {
                Assert.Equal(frame.Length - 54 - (frame[12] == 0x81 ? 4 : 0), eth.Extract<IPv6Packet>().PayloadLength);
            }
            else
            {
                var ip = eth.Extract<IPv4Packet>();
                Assert.True(ip.ValidIPChecksum);
                Assert.Equal(frame.Length - 14 - (frame[12] == 0x81 ? 4 : 0), ip.TotalLength);
            }

            Assert.True(kind switch
            {
                0 => eth.Extract<TcpPacket>().ValidTcpChecksum,
                1 => eth.Extract<UdpPacket>().ValidUdpChecksum,
                _ => v6 ? eth.Extract<IcmpV6Packet>().ValidIcmpChecksum : eth.Extract<IcmpV4Packet>().ValidIcmpChecksum,
            }, $"frame {i}: {Convert.ToHexString(frame)}");
            Assert.Equal(payload, eth.Extract<TransportPacket>() is { } l4 && kind < 2 ? l4.PayloadData : payload);
        }
    }

    private static EthernetPacket Parse(byte[] frame) => (EthernetPacket)PdnPacket.ParsePacket(LinkLayers.Ethernet, frame);

    private static string RandomAddress(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return new IPAddress(bytes).ToString();
    }

    /// <summary>
    /// The transport checksum over an IPv6 pseudo-header, as PacketDotNet computes it for a
    /// datagram without extension headers: the same segment moved into a plain IPv6 packet.
    /// </summary>
    private static ushort ChecksumOver(byte[] frame, string source, string destination, byte protocol, byte[] segment)
    {
        byte[] copy = (byte[])segment.Clone();
        int at = protocol == 6 ? 16 : 6;
        copy[at] = 0;
        copy[at + 1] = 0;
        var ip = new IPv6Packet(IPAddress.Parse(source), IPAddress.Parse(destination)) { NextHeader = (ProtocolType)protocol, PayloadData = copy };
        ip.PayloadLength = (ushort)copy.Length;
        var reparsed = Parse([.. frame[..12], 0x86, 0xDD, .. ip.Bytes]);
        return protocol == 6
            ? (ushort)reparsed.Extract<TcpPacket>().CalculateTcpChecksum()
            : (ushort)reparsed.Extract<UdpPacket>().CalculateUdpChecksum();
    }
}
