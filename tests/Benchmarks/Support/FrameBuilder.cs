using System.Buffers.Binary;
using Datapath.Flow;
using Datapath.Packets;

namespace Benchmarks.Support;

/// <summary>
/// Minimal Ethernet frames for the benchmarks, with valid IPv4 header and transport checksums
/// (computed with <see cref="Checksum"/>), so set-field does its full incremental update work.
/// The IP datagram fills the frame: no Ethernet padding.
/// </summary>
internal static class FrameBuilder
{
    public const ulong ClientMac = 0x02_00_00_00_00_01;
    public const ulong ServerMac = 0x02_00_00_00_00_02;

    /// <summary>Smallest Ethernet frame without FCS is 60 bytes; benchmarks quote the customary 64 for IPv4.</summary>
    public const int MinimalIpv4Frame = 64;

    /// <summary>The customary minimal IPv6 test frame (78 bytes).</summary>
    public const int MinimalIpv6Frame = 78;

    private const int EthLength = 14;
    private const int Ipv4Length = 20;
    private const int Ipv6Length = 40;
    private const int TcpLength = 20;
    private const int UdpLength = 8;

    public static byte[] Udp4(uint source, uint destination, ushort sourcePort, ushort destinationPort, int frameLength = MinimalIpv4Frame)
    {
        byte[] frame = Ipv4(source, destination, IpProtocols.Udp, frameLength);
        Span<byte> udp = frame.AsSpan(EthLength + Ipv4Length);
        WriteUdp(udp, sourcePort, destinationPort);
        ushort csum = Checksum.Transport(Checksum.PseudoHeaderV4(source, destination, IpProtocols.Udp, udp.Length), udp, 6);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], csum == 0 ? (ushort)0xFFFF : csum);
        return frame;
    }

    public static byte[] Tcp4(uint source, uint destination, ushort sourcePort, ushort destinationPort, int frameLength = MinimalIpv4Frame)
    {
        byte[] frame = Ipv4(source, destination, IpProtocols.Tcp, frameLength);
        Span<byte> tcp = frame.AsSpan(EthLength + Ipv4Length);
        WriteTcp(tcp, sourcePort, destinationPort);
        ushort csum = Checksum.Transport(Checksum.PseudoHeaderV4(source, destination, IpProtocols.Tcp, tcp.Length), tcp, 16);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], csum);
        return frame;
    }

    public static byte[] Tcp6(UInt128 source, UInt128 destination, ushort sourcePort, ushort destinationPort, int frameLength = MinimalIpv6Frame)
    {
        byte[] frame = Ethernet(EtherTypes.Ipv6, frameLength, EthLength + Ipv6Length + TcpLength);
        Span<byte> ip = frame.AsSpan(EthLength);
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(frameLength - EthLength - Ipv6Length));
        ip[6] = IpProtocols.Tcp;
        ip[7] = 64;
        BinaryPrimitives.WriteUInt128BigEndian(ip[8..], source);
        BinaryPrimitives.WriteUInt128BigEndian(ip[24..], destination);
        Span<byte> tcp = ip[Ipv6Length..];
        WriteTcp(tcp, sourcePort, destinationPort);
        ushort csum = Checksum.Transport(Checksum.PseudoHeaderV6(source, destination, IpProtocols.Tcp, tcp.Length), tcp, 16);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], csum);
        return frame;
    }

    /// <summary>True when the TCP or UDP checksum of an IPv4 frame built here is correct (for setup checks).</summary>
    public static bool IsIpv4TransportChecksumValid(ReadOnlySpan<byte> frame)
    {
        ReadOnlySpan<byte> ip = frame[EthLength..];
        byte protocol = ip[9];
        ReadOnlySpan<byte> segment = ip[Ipv4Length..];
        ulong sum = Checksum.PseudoHeaderV4(
            BinaryPrimitives.ReadUInt32BigEndian(ip[12..]), BinaryPrimitives.ReadUInt32BigEndian(ip[16..]), protocol, segment.Length);
        return Checksum.Fold(Checksum.Accumulate(sum, segment)) == 0xFFFF;
    }

    public static bool IsIpv4HeaderChecksumValid(ReadOnlySpan<byte> frame) =>
        Checksum.IsIpv4HeaderValid(frame.Slice(EthLength, Ipv4Length));

    private static byte[] Ipv4(uint source, uint destination, byte protocol, int frameLength)
    {
        int headers = EthLength + Ipv4Length + (protocol == IpProtocols.Tcp ? TcpLength : UdpLength);
        byte[] frame = Ethernet(EtherTypes.Ipv4, frameLength, headers);
        Span<byte> ip = frame.AsSpan(EthLength, Ipv4Length);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(frameLength - EthLength));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], 0x1234);
        ip[8] = 64;
        ip[9] = protocol;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], source);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], destination);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Ipv4Header(ip));
        return frame;
    }

    private static byte[] Ethernet(ushort ethType, int frameLength, int headersLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frameLength, headersLength);
        var frame = new byte[frameLength];

        // A non-zero payload, so checksums cover real data.
        for (int i = headersLength; i < frameLength; i++)
        {
            frame[i] = (byte)i;
        }

        FlowKey.WriteMac(frame, ServerMac);
        FlowKey.WriteMac(frame.AsSpan(6), ClientMac);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), ethType);
        return frame;
    }

    private static void WriteUdp(Span<byte> udp, ushort sourcePort, ushort destinationPort)
    {
        BinaryPrimitives.WriteUInt16BigEndian(udp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)udp.Length);
    }

    private static void WriteTcp(Span<byte> tcp, ushort sourcePort, ushort destinationPort)
    {
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], 0x1000_0000);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], 0x2000_0000);
        tcp[12] = 0x50;
        tcp[13] = 0x10;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 0xFFFF);
    }
}
