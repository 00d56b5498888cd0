using Datapath.Tests.Actions;
using PacketDotNet;
using PacketDotNet.Utils;
using PdnPacket = PacketDotNet.Packet;

namespace Datapath.Tests.Conntrack.Nat;

/// <summary>
/// Checks a frame's checksums with PacketDotNet, which shares no code with the datapath: the outer
/// IPv4, TCP, UDP, ICMP and ICMPv6 checksums, and for an ICMP error the quoted packet's IPv4 header
/// checksum and, when the quote holds the whole datagram, its TCP or UDP checksum.
/// </summary>
internal static class NatChecksumAssert
{
    private const int IcmpHeaderLength = 8;

    public static void AllValid(byte[] frame)
    {
        ChecksumAssert.AllValid(frame);
        PdnPacket parsed = TestFrames.Parse(frame);
        if (parsed.Extract<IcmpV4Packet>() is { } icmp && IsError(TypeOf(icmp)))
        {
            QuotedValid(Quote(icmp), ipv6: false);
        }
        else if (parsed.Extract<IcmpV6Packet>() is { } icmp6 && TypeOf(icmp6) is >= 1 and <= 4)
        {
            QuotedValid(Quote(icmp6), ipv6: true);
        }
    }

    private static bool IsError(byte type) => type is 3 or 4 or 5 or 11 or 12;

    private static byte TypeOf(PdnPacket icmp) => icmp.BytesSegment.Bytes[icmp.BytesSegment.Offset];

    private static byte[] Quote(PdnPacket icmp)
    {
        var segment = icmp.BytesSegment;
        return segment.Bytes.AsSpan(segment.Offset + IcmpHeaderLength, segment.Length - IcmpHeaderLength).ToArray();
    }

    /// <summary>The quoted datagram, parsed on its own.</summary>
    private static void QuotedValid(byte[] quote, bool ipv6)
    {
        if (!ipv6)
        {
            var inner = new IPv4Packet(new ByteArraySegment(quote));
            Assert.True(inner.ValidIPChecksum, "quoted IPv4 header checksum");
            bool whole = inner.TotalLength <= quote.Length;
            if (whole && inner.Extract<UdpPacket>() is { } udp && udp.Checksum != 0)
            {
                Assert.True(udp.ValidUdpChecksum, "quoted UDP checksum");
            }

            if (whole && inner.Extract<TcpPacket>() is { } tcp)
            {
                Assert.True(tcp.ValidTcpChecksum, "quoted TCP checksum");
            }
        }
        else
        {
            var inner = new IPv6Packet(new ByteArraySegment(quote));
            bool whole = inner.PayloadLength + 40 <= quote.Length;
            if (whole && inner.Extract<UdpPacket>() is { } udp)
            {
                Assert.True(udp.ValidUdpChecksum, "quoted UDP checksum");
            }

            if (whole && inner.Extract<TcpPacket>() is { } tcp)
            {
                Assert.True(tcp.ValidTcpChecksum, "quoted TCP checksum");
            }
        }
    }
}
