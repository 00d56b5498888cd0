using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using PacketDotNet;
using PdnPacket = PacketDotNet.Packet;

namespace Datapath.Tests.Conntrack.Nat;

/// <summary>
/// Frames for the NAT property tests, built and checksummed by PacketDotNet: requests, the answer
/// a peer sends to a frame (endpoints swapped), and ICMP errors quoting a frame.
/// </summary>
internal static class Frames
{
    private static readonly PhysicalAddress Inside = PhysicalAddress.Parse("02-00-00-00-00-01");
    private static readonly PhysicalAddress Outside = PhysicalAddress.Parse("02-00-00-00-00-02");
    private const int EthLength = 14;

    public static byte[] Udp(string src, string dst, ushort sport, ushort dport, int payload, bool inside)
    {
        var udp = new UdpPacket(sport, dport) { PayloadData = Payload(payload, 0x11) };
        return Wrap(src, dst, udp, inside, ProtocolType.Udp);
    }

    public static byte[] TcpSyn(string src, string dst, ushort sport, ushort dport, uint seq, int payload, bool inside)
    {
        var tcp = new TcpPacket(sport, dport) { SequenceNumber = seq, Synchronize = true, WindowSize = 64240, PayloadData = Payload(payload % 40, 0x22) };
        return Wrap(src, dst, tcp, inside, ProtocolType.Tcp);
    }

    public static byte[] Echo(string src, string dst, ushort id, int payload)
    {
        byte[] icmp = new byte[8 + payload];
        icmp[0] = 8;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(6), 1);
        Payload(payload, 0x33).CopyTo(icmp, 8);
        return RawIpv4(src, dst, ProtocolType.Icmp, icmp, inside: true);
    }

    /// <summary>What the peer answers to <paramref name="frame"/>: MACs, addresses and ports swapped; a SYN gets a SYN/ACK, an echo request a reply.</summary>
    public static byte[] AnswerTo(byte[] frame)
    {
        var ip = Parse(frame).Extract<IPPacket>();
        bool inside = Parse(frame).Extract<EthernetPacket>().SourceHardwareAddress.Equals(Outside);
        string src = ip.DestinationAddress.ToString();
        string dst = ip.SourceAddress.ToString();
        switch (ip.PayloadPacket)
        {
            case TcpPacket t:
                var synAck = new TcpPacket(t.DestinationPort, t.SourcePort)
                {
                    SequenceNumber = 7777,
                    Synchronize = true,
                    Acknowledgment = true,
                    AcknowledgmentNumber = t.SequenceNumber + 1 + (uint)t.PayloadData.Length,
                    WindowSize = 65000,
                };
                return Wrap(src, dst, synAck, inside, ProtocolType.Tcp);
            case UdpPacket u:
                var answer = new UdpPacket(u.DestinationPort, u.SourcePort) { PayloadData = u.PayloadData.Reverse().Concat(new byte[] { 0x44 }).ToArray() };
                return Wrap(src, dst, answer, inside, ProtocolType.Udp);
            default:
                byte[] icmp = L4(frame).ToArray();
                icmp[0] = 0;
                icmp[2] = 0;
                icmp[3] = 0;
                return RawIpv4(src, dst, ProtocolType.Icmp, icmp, inside);
        }
    }

    /// <summary>
    /// A destination-unreachable error from a router about <paramref name="frame"/>, sent to its
    /// source, quoting <paramref name="quoteLength"/> bytes of its IP datagram (0: all of it).
    /// </summary>
    public static byte[] ErrorAbout(byte[] frame, int quoteLength)
    {
        var ip = Parse(frame).Extract<IPPacket>();
        bool inside = Parse(frame).Extract<EthernetPacket>().SourceHardwareAddress.Equals(Outside);
        byte[] quote = Quote(frame, quoteLength);
        byte[] icmp = new byte[8 + quote.Length];
        quote.CopyTo(icmp, 8);
        if (ip is IPv4Packet)
        {
            icmp[0] = 3;
            icmp[1] = (byte)(quoteLength == 0 ? 3 : 4);
            if (quoteLength != 0)
            {
                BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(6), 1400);
            }

            return RawIpv4(inside ? "10.9.9.9" : "203.0.113.254", ip.SourceAddress.ToString(), ProtocolType.Icmp, icmp, inside);
        }

        icmp[0] = 1;
        icmp[1] = 4;
        var ip6 = new IPv6Packet(IPAddress.Parse(inside ? "fd00::99" : "2001:db8:ffff::1"), ip.SourceAddress)
        {
            PayloadData = icmp,
            NextHeader = ProtocolType.IcmpV6,
            HopLimit = 64,
            PayloadLength = (ushort)icmp.Length,
        };
        var eth = new EthernetPacket(inside ? Inside : Outside, inside ? Outside : Inside, EthernetType.IPv6) { PayloadPacket = ip6 };
        var parsed = Parse(eth.Bytes);
        parsed.Extract<IcmpV6Packet>().UpdateIcmpChecksum();
        return parsed.Bytes;
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

    private static byte[] Wrap(string src, string dst, TransportPacket l4, bool inside, ProtocolType protocol)
    {
        var source = IPAddress.Parse(src);
        IPPacket ip = source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? new IPv6Packet(source, IPAddress.Parse(dst)) { PayloadPacket = l4, HopLimit = 64 }
            : new IPv4Packet(source, IPAddress.Parse(dst)) { PayloadPacket = l4, TimeToLive = 64 };
        var eth = new EthernetPacket(inside ? Inside : Outside, inside ? Outside : Inside, ip is IPv6Packet ? EthernetType.IPv6 : EthernetType.IPv4) { PayloadPacket = ip };
        var parsed = Parse(eth.Bytes);
        if (protocol == ProtocolType.Tcp)
        {
            parsed.Extract<TcpPacket>().UpdateTcpChecksum();
        }
        else
        {
            parsed.Extract<UdpPacket>().UpdateUdpChecksum();
        }

        parsed.Extract<IPv4Packet>()?.UpdateIPChecksum();
        return parsed.Bytes;
    }

    private static byte[] RawIpv4(string src, string dst, ProtocolType protocol, byte[] payload, bool inside)
    {
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { PayloadData = payload, Protocol = protocol, TimeToLive = 64 };
        ip.TotalLength = ip.HeaderLength + payload.Length;
        var eth = new EthernetPacket(inside ? Inside : Outside, inside ? Outside : Inside, EthernetType.IPv4) { PayloadPacket = ip };
        var parsed = Parse(eth.Bytes);
        parsed.Extract<IcmpV4Packet>().UpdateIcmpChecksum();
        parsed.Extract<IPv4Packet>().UpdateIPChecksum();
        return parsed.Bytes;
    }

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
