using System.Buffers.Binary;
using System.Net;

namespace Datapath.Tests.Conntrack;

/// <summary>
/// Builds Ethernet frames for the conntrack tests with correct checksums, computed here from
/// RFC 1071 independently of the library's Checksum class. Addresses are strings for readability.
/// </summary>
internal static class CtFrames
{
    public const ushort Fin = 0x01;
    public const ushort Syn = 0x02;
    public const ushort Rst = 0x04;
    public const ushort Psh = 0x08;
    public const ushort Ack = 0x10;
    public const ushort Urg = 0x20;

    public const string H1 = "10.0.0.1";
    public const string H2 = "10.0.0.2";
    public const string H1v6 = "fd00::1";
    public const string H2v6 = "fd00::2";

    /// <summary>A TCP segment; <paramref name="windowScale"/> adds a window-scale option (a SYN's).</summary>
    public static byte[] Tcp(string src, string dst, ushort sport, ushort dport, uint seq, uint ack, ushort flags,
        ushort window = 64240, int payload = 0, int windowScale = -1)
    {
        int optionLength = windowScale >= 0 ? 4 : 0;
        var tcp = new byte[20 + optionLength + payload];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sport);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(4), seq);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(8), ack);
        tcp[12] = (byte)(((20 + optionLength) / 4) << 4);
        tcp[13] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(14), window);
        if (windowScale >= 0)
        {
            tcp[20] = 1; // NOP
            tcp[21] = 3; // window scale
            tcp[22] = 3;
            tcp[23] = (byte)windowScale;
        }

        for (int i = 20 + optionLength; i < tcp.Length; i++)
        {
            tcp[i] = (byte)i;
        }

        return Ip(src, dst, 6, tcp, checksumOffset: 16);
    }

    public static byte[] Udp(string src, string dst, ushort sport, ushort dport, int payload = 12, bool zeroChecksum = false)
    {
        var udp = new byte[8 + payload];
        BinaryPrimitives.WriteUInt16BigEndian(udp, sport);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        for (int i = 8; i < udp.Length; i++)
        {
            udp[i] = (byte)(i * 7);
        }

        return Ip(src, dst, 17, udp, checksumOffset: zeroChecksum ? -1 : 6);
    }

    /// <summary>ICMP (IPv4) or ICMPv6 echo-style message: type, code, id, sequence and a small body.</summary>
    public static byte[] IcmpEcho(string src, string dst, byte type, ushort id, ushort sequence = 1, byte code = 0)
    {
        var icmp = new byte[16];
        icmp[0] = type;
        icmp[1] = code;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(6), sequence);
        return Ip(src, dst, IsV6(src) ? (byte)58 : (byte)1, icmp, checksumOffset: 2);
    }

    /// <summary>An ICMP error from <paramref name="src"/> to <paramref name="dst"/> quoting the IP datagram of <paramref name="quotedFrame"/>.</summary>
    public static byte[] IcmpError(string src, string dst, byte type, byte code, byte[] quotedFrame, int quotedBytes = 28)
    {
        var quoted = quotedFrame.AsSpan(14);
        quoted = quoted[..Math.Min(quotedBytes, quoted.Length)];
        var icmp = new byte[8 + quoted.Length];
        icmp[0] = type;
        icmp[1] = code;
        quoted.CopyTo(icmp.AsSpan(8));
        return Ip(src, dst, IsV6(src) ? (byte)58 : (byte)1, icmp, checksumOffset: 2);
    }

    public static byte[] Arp()
    {
        var frame = new byte[42];
        Mac(frame, 0xFFFF_FFFF_FFFF, 0x0200_0000_0001, 0x0806);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), 1);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), 0x0800);
        frame[18] = 6;
        frame[19] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(20), 1);
        return frame;
    }

    /// <summary>An IP datagram with the given protocol and L4 bytes, its L4 checksum (at <paramref name="checksumOffset"/>, -1 for none) filled in.</summary>
    public static byte[] Ip(string src, string dst, byte protocol, byte[] l4, int checksumOffset)
    {
        bool v6 = IsV6(src);
        byte[] s = IPAddress.Parse(src).GetAddressBytes();
        byte[] d = IPAddress.Parse(dst).GetAddressBytes();
        if (checksumOffset >= 0)
        {
            l4[checksumOffset] = 0;
            l4[checksumOffset + 1] = 0;
            bool pseudo = v6 || protocol != 1;
            uint sum = pseudo ? PseudoSum(s, d, protocol, l4.Length) : 0;
            ushort c = Finish(Sum(l4, sum));
            if (protocol == 17 && c == 0)
            {
                c = 0xFFFF;
            }

            BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(checksumOffset), c);
        }

        byte[] ip;
        if (v6)
        {
            ip = new byte[40 + l4.Length];
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(4), (ushort)l4.Length);
            ip[6] = protocol;
            ip[7] = 64;
            s.CopyTo(ip, 8);
            d.CopyTo(ip, 24);
            l4.CopyTo(ip, 40);
        }
        else
        {
            ip = new byte[20 + l4.Length];
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)ip.Length);
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(4), 0x1234);
            ip[8] = 64;
            ip[9] = protocol;
            s.CopyTo(ip, 12);
            d.CopyTo(ip, 16);
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), Finish(Sum(ip.AsSpan(0, 20), 0)));
            l4.CopyTo(ip, 20);
        }

        var frame = new byte[14 + ip.Length];
        Mac(frame, 0x0200_0000_0002, 0x0200_0000_0001, v6 ? (ushort)0x86DD : (ushort)0x0800);
        ip.CopyTo(frame, 14);
        return frame;
    }

    /// <summary>Recomputes the IPv4 header checksum of a frame (after a test edited the header).</summary>
    public static void FixIpv4HeaderChecksum(byte[] frame)
    {
        frame[24] = 0;
        frame[25] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(24), Finish(Sum(frame.AsSpan(14, 20), 0)));
    }

    private static bool IsV6(string address) => address.Contains(':', StringComparison.Ordinal);

    private static void Mac(byte[] frame, ulong dst, ulong src, ushort type)
    {
        for (int i = 0; i < 6; i++)
        {
            frame[i] = (byte)(dst >> (40 - (8 * i)));
            frame[6 + i] = (byte)(src >> (40 - (8 * i)));
        }

        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), type);
    }

    private static uint PseudoSum(byte[] src, byte[] dst, byte protocol, int length)
    {
        uint sum = Sum(src, 0);
        sum = Sum(dst, sum);
        return sum + protocol + (uint)length;
    }

    private static uint Sum(ReadOnlySpan<byte> data, uint sum)
    {
        for (int i = 0; i + 1 < data.Length; i += 2)
        {
            sum += (uint)((data[i] << 8) | data[i + 1]);
        }

        if (data.Length % 2 == 1)
        {
            sum += (uint)(data[^1] << 8);
        }

        return sum;
    }

    private static ushort Finish(uint sum)
    {
        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
