using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using Datapath.Packets;
using PacketDotNet;
using Packet = Datapath.Packets.Packet;
using PdnPacket = PacketDotNet.Packet;

namespace Datapath.Tests.Actions;

/// <summary>
/// Frames built with PacketDotNet (checksums computed by PacketDotNet), and packets loaded with the
/// layer offsets that flow extraction would set.
/// </summary>
internal static class TestFrames
{
    public static readonly PhysicalAddress Mac1 = PhysicalAddress.Parse("02-00-00-00-00-01");
    public static readonly PhysicalAddress Mac2 = PhysicalAddress.Parse("02-00-00-00-00-02");

    public const string V4Src = "10.0.0.1";
    public const string V4Dst = "10.0.0.2";
    public const string V6Src = "fd00::1";
    public const string V6Dst = "fd00::2";

    private static readonly byte[] DefaultPayload = [0xde, 0xad, 0xbe, 0xef, 0x01];

    public static byte[] Ipv4Tcp(string src = V4Src, string dst = V4Dst, ushort sport = 40000, ushort dport = 80, int tos = 0, int ttl = 64, byte[]? payload = null)
    {
        var tcp = new TcpPacket(sport, dport) { SequenceNumber = 1000, Synchronize = true, WindowSize = 64240, PayloadData = payload ?? DefaultPayload };
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { PayloadPacket = tcp, TimeToLive = ttl, TypeOfService = tos };
        var eth = new EthernetPacket(Mac1, Mac2, EthernetType.IPv4) { PayloadPacket = ip };
        tcp.UpdateTcpChecksum();
        ip.UpdateIPChecksum();
        return eth.Bytes;
    }

    public static byte[] Ipv4Udp(string src = V4Src, string dst = V4Dst, ushort sport = 5353, ushort dport = 53, bool zeroChecksum = false, int tos = 0, int ttl = 64, byte[]? payload = null)
    {
        var udp = new UdpPacket(sport, dport) { PayloadData = payload ?? DefaultPayload };
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { PayloadPacket = udp, TimeToLive = ttl, TypeOfService = tos };
        var eth = new EthernetPacket(Mac1, Mac2, EthernetType.IPv4) { PayloadPacket = ip };
        udp.UpdateUdpChecksum();
        if (zeroChecksum)
        {
            udp.Checksum = 0;
        }

        ip.UpdateIPChecksum();
        return eth.Bytes;
    }

    /// <summary>An ICMP echo request.</summary>
    public static byte[] Ipv4Icmp(string src = V4Src, string dst = V4Dst)
    {
        byte[] icmp = [8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 1, 2, 3, 4, 5, 6];
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { PayloadData = icmp, Protocol = ProtocolType.Icmp, TimeToLive = 64 };
        ip.TotalLength = ip.HeaderLength + icmp.Length;
        var eth = new EthernetPacket(Mac1, Mac2, EthernetType.IPv4) { PayloadPacket = ip };
        var parsed = Parse(eth.Bytes);
        parsed.Extract<IcmpV4Packet>().UpdateIcmpChecksum();
        return WithIpv4Checksum(parsed.Bytes);
    }

    /// <summary>A non-first IPv4 fragment of a TCP datagram: no transport header in it.</summary>
    public static byte[] Ipv4LaterFragment()
    {
        byte[] data = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 1, 2, 3, 4];
        var ip = new IPv4Packet(IPAddress.Parse(V4Src), IPAddress.Parse(V4Dst)) { PayloadData = data, Protocol = ProtocolType.Tcp, TimeToLive = 64, Id = 7, FragmentOffset = 185 };
        ip.TotalLength = ip.HeaderLength + data.Length;
        var eth = new EthernetPacket(Mac1, Mac2, EthernetType.IPv4) { PayloadPacket = ip };
        return WithIpv4Checksum(eth.Bytes);
    }

    /// <summary>An SCTP packet (one COOKIE ACK chunk) with a correct CRC-32C, short enough to carry Ethernet padding.</summary>
    public static byte[] Ipv4Sctp(ushort sport = 2905, ushort dport = 2906)
    {
        byte[] sctp = new byte[12 + 4];
        BinaryPrimitives.WriteUInt16BigEndian(sctp, sport);
        BinaryPrimitives.WriteUInt16BigEndian(sctp.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt32BigEndian(sctp.AsSpan(4), 0xCAFEF00D);
        sctp[12] = 11; // COOKIE ACK
        BinaryPrimitives.WriteUInt16BigEndian(sctp.AsSpan(14), 4);
        Crc32c.WriteSctp(sctp.AsSpan(8), Crc32c.Compute(sctp));
        var ip = new IPv4Packet(IPAddress.Parse(V4Src), IPAddress.Parse(V4Dst)) { PayloadData = sctp, Protocol = (ProtocolType)132, TimeToLive = 64 };
        ip.TotalLength = ip.HeaderLength + sctp.Length;
        var eth = new EthernetPacket(Mac1, Mac2, EthernetType.IPv4) { PayloadPacket = ip };
        return PadToMinimum(WithIpv4Checksum(eth.Bytes));
    }

    public static byte[] Ipv6Tcp(string src = V6Src, string dst = V6Dst, ushort sport = 40000, ushort dport = 443, int trafficClass = 0, int hopLimit = 64, int flowLabel = 0x12345, byte[]? payload = null)
    {
        var tcp = new TcpPacket(sport, dport) { SequenceNumber = 1000, Acknowledgment = true, AcknowledgmentNumber = 77, WindowSize = 500, PayloadData = payload ?? DefaultPayload };
        var ip = new IPv6Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { PayloadPacket = tcp, HopLimit = hopLimit, TrafficClass = trafficClass, FlowLabel = flowLabel };
        var eth = new EthernetPacket(Mac1, Mac2, EthernetType.IPv6) { PayloadPacket = ip };
        tcp.UpdateTcpChecksum();
        return eth.Bytes;
    }

    public static byte[] Ipv6Udp(string src = V6Src, string dst = V6Dst, ushort sport = 5353, ushort dport = 53, int trafficClass = 0, int hopLimit = 64, byte[]? payload = null)
    {
        var udp = new UdpPacket(sport, dport) { PayloadData = payload ?? DefaultPayload };
        var ip = new IPv6Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { PayloadPacket = udp, HopLimit = hopLimit, TrafficClass = trafficClass, FlowLabel = 0x54321 };
        var eth = new EthernetPacket(Mac1, Mac2, EthernetType.IPv6) { PayloadPacket = ip };
        udp.UpdateUdpChecksum();
        return eth.Bytes;
    }

    /// <summary>An ICMPv6 echo request.</summary>
    public static byte[] Ipv6Icmp(string src = V6Src, string dst = V6Dst)
    {
        byte[] icmp = [128, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 0xaa, 0xbb, 0xcc];
        var ip = new IPv6Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { PayloadData = icmp, NextHeader = ProtocolType.IcmpV6, HopLimit = 64 };
        ip.PayloadLength = (ushort)icmp.Length;
        var eth = new EthernetPacket(Mac1, Mac2, EthernetType.IPv6) { PayloadPacket = ip };
        var parsed = Parse(eth.Bytes);
        parsed.Extract<IcmpV6Packet>().UpdateIcmpChecksum();
        return parsed.Bytes;
    }

    /// <summary>
    /// IPv6 + one extension header + TCP, the transport checksum computed over the pseudo-header with
    /// <paramref name="pseudoDestination"/> (the final destination when a routing header has segments left).
    /// </summary>
    public static byte[] Ipv6TcpWithExtension(byte[] extension, byte extensionType, string pseudoDestination = V6Dst)
    {
        byte[] plain = Ipv6Tcp();
        const int l3 = 14;
        byte[] frame = new byte[plain.Length + extension.Length];
        plain.AsSpan(0, l3 + 40).CopyTo(frame);
        extension.CopyTo(frame.AsSpan(l3 + 40));
        plain.AsSpan(l3 + 40).CopyTo(frame.AsSpan(l3 + 40 + extension.Length));
        frame[l3 + 40] = (byte)ProtocolType.Tcp; // the extension's next header
        frame[l3 + 6] = extensionType;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(l3 + 4), (ushort)(frame.Length - l3 - 40));

        Span<byte> tcp = frame.AsSpan(l3 + 40 + extension.Length);
        UInt128 src = BinaryPrimitives.ReadUInt128BigEndian(frame.AsSpan(l3 + 8));
        UInt128 dst = BinaryPrimitives.ReadUInt128BigEndian(IPAddress.Parse(pseudoDestination).GetAddressBytes());
        ushort csum = Checksum.Transport(Checksum.PseudoHeaderV6(src, dst, (byte)ProtocolType.Tcp, tcp.Length), tcp, 16);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], csum);
        return frame;
    }

    // PacketDotNet computes the header checksum right only once the datagram is serialised.
    private static byte[] WithIpv4Checksum(byte[] frame)
    {
        var parsed = Parse(frame);
        parsed.Extract<IPv4Packet>().UpdateIPChecksum();
        return parsed.Bytes;
    }

    /// <summary>Inserts a tag after the MAC addresses.</summary>
    public static byte[] WithVlan(byte[] frame, ushort tci, ushort tpid = 0x8100)
    {
        byte[] tagged = new byte[frame.Length + 4];
        frame.AsSpan(0, 12).CopyTo(tagged);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(12), tpid);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(14), tci);
        frame.AsSpan(12).CopyTo(tagged.AsSpan(16));
        return tagged;
    }

    public static byte[] PadToMinimum(byte[] frame)
    {
        if (frame.Length >= 60)
        {
            return frame;
        }

        byte[] padded = new byte[60];
        frame.CopyTo(padded, 0);
        return padded;
    }

    public static PdnPacket Parse(byte[] frame) => PdnPacket.ParsePacket(LinkLayers.Ethernet, frame);

    /// <summary>A datapath packet holding <paramref name="frame"/> with the offsets extraction would set.</summary>
    public static Packet Load(byte[] frame, uint inPort = 1)
    {
        var packet = new Packet();
        packet.SetFrame(frame, inPort);
        (packet.L3Offset, packet.L4Offset) = Offsets(frame);
        return packet;
    }

    /// <summary>
    /// L3 and L4 offsets as OVS's miniflow_extract finds them: L3 after the VLAN tags; L4 after the IPv4
    /// options or the IPv6 extension headers, -1 for non-first fragments and non-IP frames.
    /// </summary>
    public static (int L3, int L4) Offsets(byte[] frame)
    {
        int offset = 12;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(offset));
        while (type is 0x8100 or 0x88a8)
        {
            offset += 4;
            type = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(offset));
        }

        int l3 = offset + 2;
        if (type == 0x0800)
        {
            bool later = (BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(l3 + 6)) & 0x1FFF) != 0;
            return (l3, later ? -1 : l3 + ((frame[l3] & 0x0F) * 4));
        }

        if (type == 0x86dd)
        {
            byte next = frame[l3 + 6];
            int l4 = l3 + 40;
            while (next is 0 or 43 or 60 or 44)
            {
                if (next == 44 && (BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(l4 + 2)) & 0xFFF8) != 0)
                {
                    return (l3, -1);
                }

                int length = next == 44 ? 8 : (frame[l4 + 1] + 1) * 8;
                next = frame[l4];
                l4 += length;
            }

            return (l3, l4);
        }

        return (l3, -1);
    }

    /// <summary>The packet's current frame as a new array.</summary>
    public static byte[] Bytes(Packet packet) => packet.Data.ToArray();
}
