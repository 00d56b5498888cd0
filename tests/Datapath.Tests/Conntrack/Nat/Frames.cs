using System.Buffers.Binary;
using System.Net.NetworkInformation;
using PacketDotNet;
using TestSupport.Frames;
using PdnPacket = PacketDotNet.Packet;

namespace Datapath.Tests.Conntrack.Nat;

/// <summary>
/// Frames for the NAT property tests, built with the tests' frame builder (valid checksums):
/// requests, the answer a peer sends to a frame (endpoints swapped), and ICMP errors quoting a
/// frame; PacketDotNet reads frames back.
/// </summary>
internal static class Frames
{
    private const string Inside = "02:00:00:00:00:01";
    private const string Outside = "02:00:00:00:00:02";
    private static readonly PhysicalAddress OutsideMac = PhysicalAddress.Parse("02-00-00-00-00-02");
    private const int EthLength = 14;

    public static byte[] Udp(string src, string dst, ushort sport, ushort dport, int payload, bool inside) =>
        Between(src, dst, inside).Udp(sport, dport).Payload(Payload(payload, 0x11)).Build();

    public static byte[] TcpSyn(string src, string dst, ushort sport, ushort dport, uint seq, int payload, bool inside) =>
        Between(src, dst, inside).Tcp(sport, dport, TcpFlags.Syn, seq, 0, 64240).Payload(Payload(payload % 40, 0x22)).Build();

    public static byte[] Echo(string src, string dst, ushort id, int payload) =>
        Between(src, dst, inside: true).IcmpEcho(8, id, 1).Payload(Payload(payload, 0x33)).Build();

    /// <summary>What the peer answers to <paramref name="frame"/>: MACs, addresses and ports swapped; a SYN gets a SYN/ACK, an echo request a reply.</summary>
    public static byte[] AnswerTo(byte[] frame)
    {
        var ip = Parse(frame).Extract<IPPacket>();
        bool inside = Parse(frame).Extract<EthernetPacket>().SourceHardwareAddress.Equals(OutsideMac);
        var answer = Between(ip.DestinationAddress.ToString(), ip.SourceAddress.ToString(), inside);
        switch (ip.PayloadPacket)
        {
            case TcpPacket t:
                uint ack = t.SequenceNumber + 1 + (uint)t.PayloadData.Length;
                return answer.Tcp(t.DestinationPort, t.SourcePort, (ushort)(TcpFlags.Syn | TcpFlags.Ack), 7777, ack, 65000).Build();
            case UdpPacket u:
                return answer.Udp(u.DestinationPort, u.SourcePort).Payload(u.PayloadData.Reverse().Concat(new byte[] { 0x44 }).ToArray()).Build();
            default:
                var echo = L4(frame);
                return answer.IcmpEcho(0, BinaryPrimitives.ReadUInt16BigEndian(echo[4..]), BinaryPrimitives.ReadUInt16BigEndian(echo[6..])).Payload(echo[8..].ToArray()).Build();
        }
    }

    /// <summary>
    /// A destination-unreachable error from a router about <paramref name="frame"/>, sent to its
    /// source, quoting <paramref name="quoteLength"/> bytes of its IP datagram (0: all of it).
    /// </summary>
    public static byte[] ErrorAbout(byte[] frame, int quoteLength)
    {
        var ip = Parse(frame).Extract<IPPacket>();
        bool inside = Parse(frame).Extract<EthernetPacket>().SourceHardwareAddress.Equals(OutsideMac);
        int? quoted = quoteLength == 0 ? null : quoteLength;
        if (ip is IPv4Packet)
        {
            // Fragmentation needed (MTU 1400) for a cut quote, port unreachable for a whole one.
            return Between(inside ? "10.9.9.9" : "203.0.113.254", ip.SourceAddress.ToString(), inside)
                .IcmpError(3, (byte)(quoteLength == 0 ? 3 : 4), frame, quoted, rest: quoteLength == 0 ? 0u : 1400u).Build();
        }

        return Between(inside ? "fd00::99" : "2001:db8:ffff::1", ip.SourceAddress.ToString(), inside)
            .IcmpError(1, 4, frame, quoted).Build();
    }

    /// <summary>The first <paramref name="length"/> bytes of the frame's IP datagram (0: all).</summary>
    public static byte[] Quote(byte[] frame, int length)
    {
        var datagram = frame.AsSpan(EthLength);
        return (length == 0 ? datagram : datagram[..length]).ToArray();
    }

    /// <summary>The datagram an ICMP error quotes.</summary>
    public static byte[] QuotedBytes(byte[] error) => L4(error)[8..].ToArray();

    public static ReadOnlySpan<byte> L4Payload(byte[] frame)
    {
        var ip = Parse(frame).Extract<IPPacket>();
        return ip.PayloadPacket switch
        {
            TcpPacket t => t.PayloadData,
            UdpPacket u => u.PayloadData,
            _ => L4(frame)[8..].ToArray(),
        };
    }

    public static int IcmpId(byte[] frame) => BinaryPrimitives.ReadUInt16BigEndian(L4(frame)[4..]);

    private static ReadOnlySpan<byte> L4(byte[] frame)
    {
        var ip = Parse(frame).Extract<IPPacket>();
        int l3 = EthLength;
        int header = ip is IPv4Packet v4 ? v4.HeaderLength * 4 : 40;
        int total = ip is IPv4Packet v4b ? v4b.TotalLength : 40 + ((IPv6Packet)ip).PayloadLength;
        return frame.AsSpan(l3 + header, total - header);
    }

    /// <summary>Ethernet from the inside host's MAC to the outside's (or back), then IP between the addresses.</summary>
    private static FrameBuilder Between(string src, string dst, bool inside) =>
        Frame.Ethernet(inside ? Inside : Outside, inside ? Outside : Inside).Ip(src, dst);

    private static byte[] Payload(int length, byte seed)
    {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = (byte)(seed + (i * 7));
        }

        return data;
    }

    private static PdnPacket Parse(byte[] frame) => PdnPacket.ParsePacket(LinkLayers.Ethernet, frame);
}
