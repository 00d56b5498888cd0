using System.Buffers.Binary;
using Datapath.Flow;
using Datapath.Packets;

namespace Traffic;

/// <summary>The addresses of one frame: Ethernet, IPv4 and transport (for ICMP echo the ports are the identifier).</summary>
internal struct FrameAddresses
{
    public ulong SrcMac;
    public ulong DstMac;
    public uint SrcIp;
    public uint DstIp;
    public ushort SrcPort;
    public ushort DstPort;
    public ushort IpId;
}

/// <summary>
/// Writes complete Ethernet/IPv4 frames (TCP segments, UDP datagrams, ICMP echoes) with valid IPv4
/// and transport checksums, as a host's stack would send them; frames shorter than 64 bytes are
/// padded with zeros after the datagram, as Ethernet pads them. Stateless and allocation-free.
/// </summary>
internal static class FrameWriter
{
    public const int EthLength = 14;
    public const int Ipv4Length = 20;
    public const int TcpLength = 20;
    public const int UdpLength = 8;
    public const int IcmpLength = 8;
    public const int MssOptionLength = 4;

    public const int TcpHeaders = EthLength + Ipv4Length + TcpLength;
    public const int UdpHeaders = EthLength + Ipv4Length + UdpLength;
    public const int IcmpHeaders = EthLength + Ipv4Length + IcmpLength;

    public const byte TcpFin = 0x01;
    public const byte TcpSyn = 0x02;
    public const byte TcpRst = 0x04;
    public const byte TcpPsh = 0x08;
    public const byte TcpAck = 0x10;

    public const byte IcmpEchoReply = 0;
    public const byte IcmpEchoRequest = 8;

    private const byte Ttl = 64;
    private const ushort DontFragment = 0x4000;
    private const byte TcpOptMss = 2;

    /// <summary>A TCP segment; <paramref name="mss"/> adds the MSS option when not 0 (SYN and SYN|ACK).</summary>
    public static int WriteTcp(Span<byte> frame, in FrameAddresses a, uint seq, uint ack, byte flags, ushort window, ushort mss, ReadOnlySpan<byte> payload)
    {
        int tcpLength = TcpLength + (mss != 0 ? MssOptionLength : 0);
        int l4Length = tcpLength + payload.Length;
        var tcp = WriteHeaders(frame, in a, IpProtocols.Tcp, l4Length);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, a.SrcPort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], a.DstPort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], (flags & TcpAck) != 0 ? ack : 0);
        tcp[12] = (byte)((tcpLength / 4) << 4);
        tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], window);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[16..], 0);
        if (mss != 0)
        {
            tcp[20] = TcpOptMss;
            tcp[21] = MssOptionLength;
            BinaryPrimitives.WriteUInt16BigEndian(tcp[22..], mss);
        }

        payload.CopyTo(tcp[tcpLength..]);
        ulong pseudo = Checksum.PseudoHeaderV4(a.SrcIp, a.DstIp, IpProtocols.Tcp, l4Length);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], Checksum.Transport(pseudo, tcp[..l4Length], 16));
        return Pad(frame, EthLength + Ipv4Length + l4Length);
    }

    public static int WriteUdp(Span<byte> frame, in FrameAddresses a, ReadOnlySpan<byte> payload)
    {
        int l4Length = UdpLength + payload.Length;
        var udp = WriteHeaders(frame, in a, IpProtocols.Udp, l4Length);
        BinaryPrimitives.WriteUInt16BigEndian(udp, a.SrcPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], a.DstPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)l4Length);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], 0);
        payload.CopyTo(udp[UdpLength..]);
        ulong pseudo = Checksum.PseudoHeaderV4(a.SrcIp, a.DstIp, IpProtocols.Udp, l4Length);
        ushort checksum = Checksum.Transport(pseudo, udp[..l4Length], 6);

        // 0 means "no checksum" in UDP over IPv4; the all-ones form of zero is sent instead (RFC 768).
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], checksum == 0 ? (ushort)0xFFFF : checksum);
        return Pad(frame, EthLength + Ipv4Length + l4Length);
    }

    /// <summary>An ICMP echo request or reply (<paramref name="type"/> 8 or 0) with the identifier in <see cref="FrameAddresses.SrcPort"/>.</summary>
    public static int WriteIcmpEcho(Span<byte> frame, in FrameAddresses a, byte type, ushort sequence, ReadOnlySpan<byte> payload)
    {
        int l4Length = IcmpLength + payload.Length;
        var icmp = WriteHeaders(frame, in a, IpProtocols.Icmp, l4Length);
        icmp[0] = type;
        icmp[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[4..], a.SrcPort);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], sequence);
        payload.CopyTo(icmp[IcmpLength..]);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Checksum.Compute(icmp[..l4Length]));
        return Pad(frame, EthLength + Ipv4Length + l4Length);
    }

    /// <summary>Writes Ethernet and IPv4 headers; returns the span where the L4 header goes.</summary>
    private static Span<byte> WriteHeaders(Span<byte> frame, in FrameAddresses a, byte protocol, int l4Length)
    {
        FlowKey.WriteMac(frame, a.DstMac);
        FlowKey.WriteMac(frame[6..], a.SrcMac);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], EtherTypes.Ipv4);
        var ip = frame.Slice(EthLength, Ipv4Length);
        ip[0] = 0x45;
        ip[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(Ipv4Length + l4Length));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], a.IpId);
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], DontFragment);
        ip[8] = Ttl;
        ip[9] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], a.SrcIp);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], a.DstIp);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Ipv4Header(ip));
        return frame.Slice(EthLength + Ipv4Length, l4Length);
    }

    private static int Pad(Span<byte> frame, int length)
    {
        if (length >= FrameSizeRange.Minimum)
        {
            return length;
        }

        frame[length..FrameSizeRange.Minimum].Clear();
        return FrameSizeRange.Minimum;
    }
}
