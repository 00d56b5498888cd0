using System.Buffers.Binary;
using System.Net;
using Datapath.Packets;
using Datapath.Tests.Actions;
using PacketDotNet;

namespace Datapath.Tests.Packets;

public class ChecksumTests
{
    private const int L3 = 14;

    [Fact]
    public void Compute_matches_the_worked_example_of_RFC_1071()
    {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2, so the checksum is 220d.
        byte[] data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];

        Assert.Equal(0xddf2, Checksum.Fold(Checksum.Accumulate(0, data)));
        Assert.Equal(0x220d, Checksum.Compute(data));
    }

    [Fact]
    public void Accumulate_equals_a_plain_sum_of_big_endian_words_for_every_length_and_starting_sum()
    {
        var random = new Random(1071);
        for (int length = 0; length <= 100; length++)
        {
            for (int trial = 0; trial < 20; trial++)
            {
                var data = new byte[length];
                random.NextBytes(data);
                if (trial == 0)
                {
                    Array.Fill(data, (byte)0xFF);
                }

                ulong start = trial % 2 == 0 ? 0 : (ulong)random.NextInt64(0, 1L << 40);
                ulong reference = start;
                for (int i = 0; i < length; i += 2)
                {
                    reference += (uint)(data[i] << 8) | (i + 1 < length ? data[i + 1] : 0u);
                }

                Assert.Equal(Checksum.Fold(reference), Checksum.Fold(Checksum.Accumulate(start, data)));
            }
        }
    }

    [Fact]
    public void An_odd_last_byte_is_padded_with_zero()
    {
        Assert.Equal(Checksum.Compute([0x12, 0x34, 0x56, 0x00]), Checksum.Compute([0x12, 0x34, 0x56]));
        Assert.Equal(Checksum.Compute([0xab, 0x00]), Checksum.Compute([0xab]));
    }

    [Theory]
    [InlineData("10.0.0.1", "10.0.0.2", 0, 64)]
    [InlineData("192.168.200.17", "8.8.4.4", 0xb8, 1)]
    [InlineData("255.255.255.255", "0.0.0.0", 0xff, 255)]
    public void Ipv4Header_equals_PacketDotNet_and_validates(string src, string dst, int tos, int ttl)
    {
        byte[] frame = TestFrames.Ipv4Tcp(src, dst, tos: tos, ttl: ttl).Build();
        var ip = TestFrames.Parse(frame).Extract<IPv4Packet>();
        ReadOnlySpan<byte> header = frame.AsSpan(L3, 20);

        Assert.Equal(ip.CalculateIPChecksum(), Checksum.Ipv4Header(header));
        Assert.True(Checksum.IsIpv4HeaderValid(header));
    }

    [Fact]
    public void IsIpv4HeaderValid_rejects_a_changed_header()
    {
        byte[] frame = TestFrames.Ipv4Tcp().Build();
        frame[L3 + 8]--; // TTL

        Assert.False(Checksum.IsIpv4HeaderValid(frame.AsSpan(L3, 20)));
    }

    [Fact]
    public void Transport_with_the_IPv4_pseudo_header_equals_PacketDotNet_for_TCP_and_UDP()
    {
        byte[] tcpFrame = TestFrames.Ipv4Tcp("172.16.5.4", "10.9.8.7", 1234, 4321, payload: [1, 2, 3]).Build();
        byte[] udpFrame = TestFrames.Ipv4Udp("172.16.5.4", "10.9.8.7", 1234, 4321, payload: [9, 8, 7, 6]).Build();

        Assert.Equal(TestFrames.Parse(tcpFrame).Extract<TcpPacket>().CalculateTcpChecksum(), V4Transport(tcpFrame, 6, 16));
        Assert.Equal(TestFrames.Parse(udpFrame).Extract<UdpPacket>().CalculateUdpChecksum(), V4Transport(udpFrame, 17, 6));
    }

    [Fact]
    public void Transport_with_the_IPv6_pseudo_header_equals_PacketDotNet_for_TCP_UDP_and_ICMPv6()
    {
        byte[] tcpFrame = TestFrames.Ipv6Tcp("2001:db8::7", "2001:db8:1::9", payload: [1, 2, 3]).Build();
        byte[] udpFrame = TestFrames.Ipv6Udp("2001:db8::7", "2001:db8:1::9").Build();
        byte[] icmpFrame = TestFrames.Ipv6Icmp("2001:db8::7", "2001:db8:1::9").Build();

        Assert.Equal(TestFrames.Parse(tcpFrame).Extract<TcpPacket>().CalculateTcpChecksum(), V6Transport(tcpFrame, 6, 16));
        Assert.Equal(TestFrames.Parse(udpFrame).Extract<UdpPacket>().CalculateUdpChecksum(), V6Transport(udpFrame, 17, 6));
        Assert.Equal(TestFrames.Parse(icmpFrame).Extract<IcmpV6Packet>().CalculateIcmpChecksum(), V6Transport(icmpFrame, 58, 2));
    }

    [Fact]
    public void Incremental_updates_equal_a_full_recomputation()
    {
        var random = new Random(1624);
        byte[] data = new byte[64];
        for (int round = 0; round < 2000; round++)
        {
            random.NextBytes(data);
            ushort before = Checksum.Compute(data);
            int width = (round % 3) switch { 0 => 2, 1 => 4, _ => 16 };
            int offset = random.Next(0, (data.Length - width) / width) * width;
            byte[] old = data.AsSpan(offset, width).ToArray();
            random.NextBytes(data.AsSpan(offset, width));

            ushort incremental = width switch
            {
                2 => Checksum.Update16(before, BinaryPrimitives.ReadUInt16BigEndian(old), BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(offset))),
                4 => Checksum.Update32(before, BinaryPrimitives.ReadUInt32BigEndian(old), BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(offset))),
                _ => Checksum.Update128(before, BinaryPrimitives.ReadUInt128BigEndian(old), BinaryPrimitives.ReadUInt128BigEndian(data.AsSpan(offset))),
            };

            Assert.Equal(Checksum.Compute(data), incremental);
        }
    }

    [Fact]
    public void An_unchanged_field_leaves_the_checksum_unchanged()
    {
        Assert.Equal(0x1234, Checksum.Update16(0x1234, 0xabcd, 0xabcd));
        Assert.Equal(0x1234, Checksum.Update32(0x1234, 0xdeadbeef, 0xdeadbeef));
        Assert.Equal(0x1234, Checksum.Update128(0x1234, UInt128.MaxValue - 5, UInt128.MaxValue - 5));
    }

    private static ushort V4Transport(byte[] frame, byte protocol, int checksumOffset)
    {
        uint src = BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(L3 + 12));
        uint dst = BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(L3 + 16));
        ReadOnlySpan<byte> segment = frame.AsSpan(L3 + 20);
        return Checksum.Transport(Checksum.PseudoHeaderV4(src, dst, protocol, segment.Length), segment, checksumOffset);
    }

    private static ushort V6Transport(byte[] frame, byte protocol, int checksumOffset)
    {
        UInt128 src = BinaryPrimitives.ReadUInt128BigEndian(frame.AsSpan(L3 + 8));
        UInt128 dst = BinaryPrimitives.ReadUInt128BigEndian(frame.AsSpan(L3 + 24));
        ReadOnlySpan<byte> segment = frame.AsSpan(L3 + 40);
        return Checksum.Transport(Checksum.PseudoHeaderV6(src, dst, protocol, segment.Length), segment, checksumOffset);
    }
}
