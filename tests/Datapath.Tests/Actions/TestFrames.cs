using System.Buffers.Binary;
using System.Net.NetworkInformation;
using Datapath.Packets;
using PacketDotNet;
using TestSupport.Frames;
using Packet = Datapath.Packets.Packet;
using PdnPacket = PacketDotNet.Packet;

namespace Datapath.Tests.Actions;

/// <summary>
/// The action tests' frames (TCP, UDP, ICMP, a later fragment and SCTP between 10.0.0.1 and
/// 10.0.0.2, or fd00::1 and fd00::2), described with the tests' frame builder so that a test can
/// add a tag or change a field before it builds; and packets loaded with the layer offsets that
/// flow extraction would set. PacketDotNet (<see cref="Parse"/>) reads them back.
/// </summary>
internal static class TestFrames
{
    public static readonly PhysicalAddress Mac1 = PhysicalAddress.Parse(Frame.Mac1);

    public const string V4Src = "10.0.0.1";
    public const string V4Dst = "10.0.0.2";
    public const string V6Src = "fd00::1";
    public const string V6Dst = "fd00::2";

    private static readonly byte[] DefaultPayload = [0xde, 0xad, 0xbe, 0xef, 0x01];

    public static FrameBuilder Ipv4Tcp(string src = V4Src, string dst = V4Dst, ushort sport = 40000, ushort dport = 80, int tos = 0, int ttl = 64, byte[]? payload = null, ushort flags = TcpFlags.Syn) =>
        Frame.Ipv4(src, dst).Id(0).Tos((byte)tos).Ttl((byte)ttl).Tcp(sport, dport, flags, seq: 1000).Payload(payload ?? DefaultPayload);

    public static FrameBuilder Ipv4Udp(string src = V4Src, string dst = V4Dst, ushort sport = 5353, ushort dport = 53, bool zeroChecksum = false, int tos = 0, int ttl = 64, byte[]? payload = null)
    {
        var frame = Frame.Ipv4(src, dst).Id(0).Tos((byte)tos).Ttl((byte)ttl).Udp(sport, dport).Payload(payload ?? DefaultPayload);
        return zeroChecksum ? frame.Checksum(0) : frame;
    }

    /// <summary>An ICMP echo request.</summary>
    public static FrameBuilder Ipv4Icmp(string src = V4Src, string dst = V4Dst) =>
        Frame.Ipv4(src, dst).Id(0).IcmpEcho(8, 0x1234, 1).Payload(1, 2, 3, 4, 5, 6);

    /// <summary>A non-first IPv4 fragment of a TCP datagram: no transport header in it.</summary>
    public static FrameBuilder Ipv4LaterFragment() =>
        Frame.Ipv4(V4Src, V4Dst).Id(7).Fragment(1480, more: false)
            .Transport(6, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 1, 2, 3, 4);

    /// <summary>An SCTP packet (one COOKIE ACK chunk) with a correct CRC-32C, short enough to carry Ethernet padding.</summary>
    public static FrameBuilder Ipv4Sctp(ushort sport = 2905, ushort dport = 2906) =>
        Frame.Ipv4(V4Src, V4Dst).Id(0).Sctp(sport, dport, 0xCAFEF00D, 11, 0, 0, 4).PadTo(60);

    public static FrameBuilder Ipv6Tcp(string src = V6Src, string dst = V6Dst, ushort sport = 40000, ushort dport = 443, int trafficClass = 0, int hopLimit = 64, int flowLabel = 0x12345, byte[]? payload = null) =>
        Frame.Ipv6(src, dst).Tos((byte)trafficClass).Ttl((byte)hopLimit).FlowLabel(flowLabel)
            .Tcp(sport, dport, TcpFlags.Ack, seq: 1000, ack: 77, window: 500).Payload(payload ?? DefaultPayload);

    public static FrameBuilder Ipv6Udp(string src = V6Src, string dst = V6Dst, ushort sport = 5353, ushort dport = 53, int trafficClass = 0, int hopLimit = 64, byte[]? payload = null) =>
        Frame.Ipv6(src, dst).Tos((byte)trafficClass).Ttl((byte)hopLimit).FlowLabel(0x54321).Udp(sport, dport).Payload(payload ?? DefaultPayload);

    /// <summary>An ICMPv6 echo request.</summary>
    public static FrameBuilder Ipv6Icmp(string src = V6Src, string dst = V6Dst) =>
        Frame.Ipv6(src, dst).IcmpEcho(128, 0x1234, 1).Payload(0xaa, 0xbb, 0xcc);

    /// <summary>
    /// IPv6 + one extension header + TCP, the transport checksum computed over the pseudo-header with
    /// <paramref name="pseudoDestination"/> (the final destination when a routing header has segments left).
    /// </summary>
    public static FrameBuilder Ipv6TcpWithExtension(byte[] extension, byte extensionType, string pseudoDestination = V6Dst) =>
        Frame.Ipv6(V6Src, V6Dst).FlowLabel(0x12345).Extension(extensionType, extension).PseudoHeaderDestination(pseudoDestination)
            .Tcp(40000, 443, TcpFlags.Ack, seq: 1000, ack: 77, window: 500).Payload(DefaultPayload);

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
