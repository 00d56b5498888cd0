using System.Buffers.Binary;
using System.Net;
using Datapath.Actions;
using Datapath.Tests.Support;
using PacketDotNet;
using TestSupport.Frames;
using PdnPacket = PacketDotNet.Packet;

namespace Datapath.Tests.Actions;

public class SetFieldPropertyTests
{
    private static readonly SetFieldTarget[] Targets = Enum.GetValues<SetFieldTarget>();

    [Fact]
    public void Random_set_field_sequences_on_random_TCP_and_UDP_packets_keep_checksums_valid_and_follow_the_masks()
    {
        var random = new Random(20240611);
        for (int round = 0; round < 400; round++)
        {
            bool ipv6 = random.Next(2) == 1;
            bool tcp = random.Next(2) == 1;
            bool zeroUdpChecksum = !ipv6 && !tcp && random.Next(4) == 0;
            var builder = RandomFrame(random, ipv6, tcp, zeroUdpChecksum);
            if (random.Next(3) == 0)
            {
                builder.Vlan((ushort)random.Next(0x10000), random.Next(2) == 0 ? (ushort)0x8100 : (ushort)0x88a8);
            }

            byte[] frame = builder.Build();

            var packet = TestFrames.Load(frame);
            Fields expected = Fields.Read(TestFrames.Parse(frame));
            int steps = random.Next(1, 9);
            var log = new List<string>();
            for (int step = 0; step < steps; step++)
            {
                SetFieldTarget target = Targets[random.Next(Targets.Length)];
                UInt128 value = RandomUInt128(random);
                UInt128 mask = random.Next(2) == 0 ? UInt128.MaxValue : RandomUInt128(random);
                log.Add($"{target} {value:x} {mask:x}");

                bool applies = expected.Apply(target, value, mask, ipv6);
                Assert.Equal(applies, SetFieldAction.Apply(packet, new SetFieldArgs(target, value, mask)));
            }

            byte[] result = TestFrames.Bytes(packet);
            string context = $"round {round}: {Convert.ToHexString(frame)} after {string.Join(", ", log)}";
            PdnPacket parsed = TestFrames.Parse(result);
            Fields actual = Fields.Read(parsed);
            Assert.True(expected == actual, $"{context}: expected {expected}, got {actual}");
            ChecksumAssert.AllValid(result);
            if (!tcp)
            {
                Assert.Equal(zeroUdpChecksum, parsed.Extract<UdpPacket>().Checksum == 0);
            }
        }
    }

    [Theory]
    [InlineData("tcp-http.pcap")]
    [InlineData("udp-dns.pcap")]
    [InlineData("icmp.pcap")]
    [InlineData("ipv6.pcap")]
    [InlineData("fragments/ip-frag.pcap")]
    public void Random_set_fields_on_captured_frames_never_break_a_valid_checksum(string capture)
    {
        var random = new Random(capture.Length);
        foreach (byte[] frame in ReadPcap(TestData.Capture(capture)).Take(300))
        {
            var packet = TestFrames.Load(frame);
            string before = Validity(frame);
            for (int step = random.Next(1, 6); step > 0; step--)
            {
                SetFieldTarget target = Targets[random.Next(Targets.Length)];
                SetFieldAction.Apply(packet, new SetFieldArgs(target, RandomUInt128(random), RandomUInt128(random)));
            }

            byte[] result = TestFrames.Bytes(packet);
            Assert.Equal(frame.Length, result.Length);
            Assert.Equal(before, Validity(result));
        }
    }

    private static FrameBuilder RandomFrame(Random random, bool ipv6, bool tcp, bool zeroUdpChecksum)
    {
        byte[] payload = new byte[random.Next(0, 65)];
        random.NextBytes(payload);
        var sport = (ushort)random.Next(0x10000);
        var dport = (ushort)random.Next(0x10000);
        int tos = random.Next(256);
        int ttl = random.Next(256);
        if (ipv6)
        {
            string src = RandomAddress(random, 16);
            string dst = RandomAddress(random, 16);
            return tcp
                ? TestFrames.Ipv6Tcp(src, dst, sport, dport, tos, ttl, flowLabel: random.Next(0x100000), payload: payload)
                : TestFrames.Ipv6Udp(src, dst, sport, dport, tos, ttl, payload);
        }
        else
        {
            string src = RandomAddress(random, 4);
            string dst = RandomAddress(random, 4);
            return tcp
                ? TestFrames.Ipv4Tcp(src, dst, sport, dport, tos, ttl, payload)
                : TestFrames.Ipv4Udp(src, dst, sport, dport, zeroUdpChecksum, tos, ttl, payload);
        }
    }

    private static string RandomAddress(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return new IPAddress(bytes).ToString();
    }

    private static UInt128 RandomUInt128(Random random) =>
        new((ulong)random.NextInt64() ^ ((ulong)random.Next() << 63), (ulong)random.NextInt64() ^ ((ulong)random.Next() << 63));

    // Which checksums PacketDotNet finds valid, as one comparable string.
    private static string Validity(byte[] frame)
    {
        PdnPacket parsed = TestFrames.Parse(frame);
        return string.Join(',',
            parsed.Extract<IPv4Packet>()?.ValidIPChecksum,
            parsed.Extract<TcpPacket>()?.ValidTcpChecksum,
            parsed.Extract<UdpPacket>() is { } udp ? udp.Checksum == 0 || udp.ValidUdpChecksum : null,
            parsed.Extract<IcmpV4Packet>()?.ValidIcmpChecksum,
            parsed.Extract<IcmpV6Packet>()?.ValidIcmpChecksum);
    }

    private static IEnumerable<byte[]> ReadPcap(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        Assert.Equal(0xa1b2c3d4u, BinaryPrimitives.ReadUInt32LittleEndian(file));
        for (int offset = 24; offset + 16 <= file.Length;)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset + 8));
            yield return file.AsSpan(offset + 16, length).ToArray();
            offset += 16 + length;
        }
    }

    /// <summary>The header fields set-field can change, as PacketDotNet reads them: the model the rewrite must follow.</summary>
    private sealed record Fields(ulong EthSrc, ulong EthDst, UInt128 Src, UInt128 Dst, byte Tos, byte Ttl, ushort Sport, ushort Dport)
    {
        public ulong EthSrc { get; private set; } = EthSrc;
        public ulong EthDst { get; private set; } = EthDst;
        public UInt128 Src { get; private set; } = Src;
        public UInt128 Dst { get; private set; } = Dst;
        public byte Tos { get; private set; } = Tos;
        public byte Ttl { get; private set; } = Ttl;
        public ushort Sport { get; private set; } = Sport;
        public ushort Dport { get; private set; } = Dport;

        public static Fields Read(PdnPacket parsed)
        {
            var eth = (EthernetPacket)parsed;
            var ip = parsed.Extract<IPPacket>();
            var transport = parsed.Extract<TransportPacket>();
            byte tos = ip is IPv4Packet v4 ? (byte)v4.TypeOfService : (byte)((IPv6Packet)ip).TrafficClass;
            return new Fields(
                Mac(eth.SourceHardwareAddress.GetAddressBytes()),
                Mac(eth.DestinationHardwareAddress.GetAddressBytes()),
                Address(ip.SourceAddress),
                Address(ip.DestinationAddress),
                tos,
                (byte)ip.TimeToLive,
                transport.SourcePort,
                transport.DestinationPort);
        }

        /// <summary>Applies the masked write to the model; false when the target is of the other IP version.</summary>
        public bool Apply(SetFieldTarget target, UInt128 value, UInt128 mask, bool ipv6)
        {
            switch (target)
            {
                case SetFieldTarget.EthSrc: EthSrc = (ulong)Masked(EthSrc, value, mask, 48); return true;
                case SetFieldTarget.EthDst: EthDst = (ulong)Masked(EthDst, value, mask, 48); return true;
                case SetFieldTarget.Ipv4Src when !ipv6: Src = Masked(Src, value, mask, 32); return true;
                case SetFieldTarget.Ipv4Dst when !ipv6: Dst = Masked(Dst, value, mask, 32); return true;
                case SetFieldTarget.Ipv6Src when ipv6: Src = Masked(Src, value, mask, 128); return true;
                case SetFieldTarget.Ipv6Dst when ipv6: Dst = Masked(Dst, value, mask, 128); return true;
                case SetFieldTarget.NwTos: Tos = (byte)Masked(Tos, value, mask, 8); return true;
                case SetFieldTarget.NwTtl: Ttl = (byte)Masked(Ttl, value, mask, 8); return true;
                case SetFieldTarget.TpSrc: Sport = (ushort)Masked(Sport, value, mask, 16); return true;
                case SetFieldTarget.TpDst: Dport = (ushort)Masked(Dport, value, mask, 16); return true;
                default: return false;
            }
        }

        private static UInt128 Masked(UInt128 old, UInt128 value, UInt128 mask, int bits)
        {
            UInt128 width = bits == 128 ? UInt128.MaxValue : (UInt128.One << bits) - 1;
            return ((old & ~mask) | (value & mask)) & width;
        }

        private static ulong Mac(byte[] bytes) => ((ulong)BinaryPrimitives.ReadUInt32BigEndian(bytes) << 16) | BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(4));

        private static UInt128 Address(IPAddress address)
        {
            byte[] bytes = address.GetAddressBytes();
            return bytes.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt128BigEndian(bytes);
        }
    }
}
