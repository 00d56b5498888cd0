using PacketDotNet;
using PdnPacket = PacketDotNet.Packet;

namespace Datapath.Tests.Actions;

/// <summary>Checks a frame's checksums against PacketDotNet's own validation and recomputation.</summary>
internal static class ChecksumAssert
{
    /// <summary>Every checksum PacketDotNet knows in the frame is valid and equals its recomputation.</summary>
    public static void AllValid(byte[] frame)
    {
        PdnPacket parsed = TestFrames.Parse(frame);
        if (parsed.Extract<IPv4Packet>() is { } ipv4)
        {
            Assert.True(ipv4.ValidIPChecksum, "IPv4 header checksum");
            Assert.Equal(ipv4.CalculateIPChecksum(), ipv4.Checksum);
        }

        if (parsed.Extract<TcpPacket>() is { } tcp)
        {
            Assert.True(tcp.ValidTcpChecksum, "TCP checksum");
            Assert.Equal(tcp.CalculateTcpChecksum(), tcp.Checksum);
        }

        if (parsed.Extract<UdpPacket>() is { } udp && udp.Checksum != 0)
        {
            Assert.True(udp.ValidUdpChecksum, "UDP checksum");
            ushort expected = udp.CalculateUdpChecksum();
            Assert.Equal(expected == 0 ? (ushort)0xFFFF : expected, udp.Checksum);
        }

        if (parsed.Extract<IcmpV4Packet>() is { } icmp)
        {
            Assert.True(icmp.ValidIcmpChecksum, "ICMP checksum");
        }

        if (parsed.Extract<IcmpV6Packet>() is { } icmp6)
        {
            Assert.True(icmp6.ValidIcmpChecksum, "ICMPv6 checksum");
            Assert.Equal(icmp6.CalculateIcmpChecksum(), icmp6.Checksum);
        }
    }
}
