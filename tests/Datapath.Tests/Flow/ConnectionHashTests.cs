using System.Net;
using Datapath.Flow;

namespace Datapath.Tests.Flow;

public sealed class ConnectionHashTests
{
    /// <summary>Microsoft's RSS verification suite, IPv4: destination, source, 2-tuple hash, TCP 4-tuple hash.</summary>
    public static TheoryData<string, ushort, string, ushort, uint, uint> Ipv4Vectors() => new()
    {
        { "161.142.100.80", 1766, "66.9.149.187", 2794, 0x323e8fc2, 0x51ccc178 },
        { "65.69.140.83", 4739, "199.92.111.2", 14230, 0xd718262a, 0xc626b0ea },
        { "12.22.207.184", 38024, "24.19.198.95", 12898, 0xd2d0a5de, 0x5c2b394a },
        { "209.142.163.6", 2217, "38.27.205.30", 48228, 0x82989176, 0xafc7327f },
        { "202.188.127.2", 1303, "153.39.163.191", 44251, 0x5d1809c5, 0x10e828a2 },
    };

    /// <summary>Microsoft's RSS verification suite, IPv6.</summary>
    public static TheoryData<string, ushort, string, ushort, uint, uint> Ipv6Vectors() => new()
    {
        { "3ffe:2501:200:3::1", 1766, "3ffe:2501:200:1fff::7", 2794, 0x2cc18cd5, 0x40207d3d },
        { "ff02::1", 4739, "3ffe:501:8::260:97ff:fe40:efab", 14230, 0x0f0c461c, 0xdde51bbf },
        { "fe80::200:f8ff:fe21:67cf", 38024, "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 44251, 0x4b61e985, 0x02d1feef },
    };

    [Theory]
    [MemberData(nameof(Ipv4Vectors))]
    public void Rss_hash_matches_the_microsoft_ipv4_vectors(string dst, ushort dport, string src, ushort sport, uint twoTuple, uint tcp)
    {
        var key = new FlowKey
        {
            EthType = EtherTypes.Ipv4,
            NwSrc = PacketDotNetFlowKey.Ipv4(IPAddress.Parse(src)),
            NwDst = PacketDotNetFlowKey.Ipv4(IPAddress.Parse(dst)),
            NwProto = IpProtocols.Tcp,
            TpSrc = sport,
            TpDst = dport,
        };
        Assert.Equal(tcp, ConnectionHash.RssHash(in key));

        key.NwProto = IpProtocols.Udp;
        Assert.Equal(tcp, ConnectionHash.RssHash(in key));

        key.NwFrag = FlowKey.FragAny;
        Assert.Equal(twoTuple, ConnectionHash.RssHash(in key));

        key.NwFrag = 0;
        key.NwProto = IpProtocols.Icmp;
        Assert.Equal(twoTuple, ConnectionHash.RssHash(in key));
    }

    [Theory]
    [MemberData(nameof(Ipv6Vectors))]
    public void Rss_hash_matches_the_microsoft_ipv6_vectors(string dst, ushort dport, string src, ushort sport, uint twoTuple, uint tcp)
    {
        var key = new FlowKey
        {
            EthType = EtherTypes.Ipv6,
            Ipv6Src = PacketDotNetFlowKey.Ipv6(IPAddress.Parse(src)),
            Ipv6Dst = PacketDotNetFlowKey.Ipv6(IPAddress.Parse(dst)),
            NwProto = IpProtocols.Tcp,
            TpSrc = sport,
            TpDst = dport,
        };
        Assert.Equal(tcp, ConnectionHash.RssHash(in key));

        key.NwProto = IpProtocols.Icmpv6;
        Assert.Equal(twoTuple, ConnectionHash.RssHash(in key));
    }

    [Fact]
    public void Rss_hash_is_direction_sensitive_and_zero_for_non_ip()
    {
        var key = new FlowKey { EthType = EtherTypes.Ipv4, NwSrc = 0x0A00_0001, NwDst = 0x0A00_0002, NwProto = IpProtocols.Tcp, TpSrc = 1000, TpDst = 80 };
        var reverse = new FlowKey { EthType = EtherTypes.Ipv4, NwSrc = 0x0A00_0002, NwDst = 0x0A00_0001, NwProto = IpProtocols.Tcp, TpSrc = 80, TpDst = 1000 };
        Assert.NotEqual(ConnectionHash.RssHash(in key), ConnectionHash.RssHash(in reverse));

        var arp = new FlowKey { EthType = EtherTypes.Arp, NwSrc = 0x0A00_0001, NwDst = 0x0A00_0002 };
        Assert.Equal(0u, ConnectionHash.RssHash(in arp));
    }

    [Fact]
    public void Toeplitz_refuses_a_key_too_short_for_the_input()
    {
        Assert.Throws<ArgumentException>(() => Toeplitz.Hash(new byte[8], new byte[5]));
        Assert.Equal(0u, Toeplitz.Hash(new byte[8], new byte[4]));
    }

    [Fact]
    public void Symmetric_hash_is_equal_for_both_directions_of_random_ipv4_and_ipv6_tuples()
    {
        var random = new Random(1234);
        byte[] protocols = [IpProtocols.Tcp, IpProtocols.Udp, IpProtocols.Sctp, IpProtocols.Icmp, 47];
        for (int i = 0; i < 10_000; i++)
        {
            var forward = RandomTuple(random, ipv6: i % 2 == 1);
            forward.NwProto = protocols[random.Next(protocols.Length)];
            var reverse = Reverse(forward);

            Assert.Equal(ConnectionHash.SymmetricHash(in forward), ConnectionHash.SymmetricHash(in reverse));
        }
    }

    [Fact]
    public void Symmetric_hash_is_equal_for_an_echo_request_and_its_reply()
    {
        var request = new FlowKey { EthType = EtherTypes.Ipv4, NwSrc = 0x0A00_0001, NwDst = 0x0A00_0002, NwProto = IpProtocols.Icmp, IcmpType = 8 };
        var reply = new FlowKey { EthType = EtherTypes.Ipv4, NwSrc = 0x0A00_0002, NwDst = 0x0A00_0001, NwProto = IpProtocols.Icmp, IcmpType = 0 };
        Assert.Equal(ConnectionHash.SymmetricHash(in request), ConnectionHash.SymmetricHash(in reply));
    }

    [Fact]
    public void Symmetric_hash_separates_ports_addresses_protocols_and_zones()
    {
        var random = new Random(99);
        var seen = new HashSet<uint>();
        int draws = 0;
        for (int i = 0; i < 5_000; i++)
        {
            var key = RandomTuple(random, ipv6: i % 2 == 1);
            key.NwProto = IpProtocols.Tcp;
            uint h = ConnectionHash.SymmetricHash(in key);
            var otherPort = key;
            otherPort.TpDst ^= 1;
            var otherZone = key;
            otherZone.CtZone ^= 1;
            var otherProto = key;
            otherProto.NwProto = IpProtocols.Udp;

            Assert.NotEqual(h, ConnectionHash.SymmetricHash(in otherPort));
            Assert.NotEqual(h, ConnectionHash.SymmetricHash(in otherZone));
            Assert.NotEqual(h, ConnectionHash.SymmetricHash(in otherProto));
            seen.Add(h);
            draws++;
        }

        Assert.True(seen.Count > draws - 5, $"{draws - seen.Count} collisions among {draws} random tuples");
    }

    [Fact]
    public void Symmetric_hash_of_a_key_equals_the_hash_of_its_explicit_tuple()
    {
        var v4 = new FlowKey { EthType = EtherTypes.Ipv4, NwSrc = 1, NwDst = 2, NwProto = IpProtocols.Udp, TpSrc = 3, TpDst = 4, CtZone = 5 };
        Assert.Equal(ConnectionHash.SymmetricHash(5, IpProtocols.Udp, 2u, 4, 1u, 3), ConnectionHash.SymmetricHash(in v4));

        var v6 = new FlowKey { EthType = EtherTypes.Ipv6, Ipv6Src = 1, Ipv6Dst = 2, NwProto = IpProtocols.Tcp, TpSrc = 3, TpDst = 4 };
        Assert.Equal(ConnectionHash.SymmetricHash(0, IpProtocols.Tcp, (UInt128)2, 4, (UInt128)1, 3), ConnectionHash.SymmetricHash(in v6));
    }

    [Fact]
    public void Symmetric_hash_ignores_ports_of_fragments_so_all_fragments_of_a_datagram_meet()
    {
        var first = new FlowKey { EthType = EtherTypes.Ipv4, NwSrc = 1, NwDst = 2, NwProto = IpProtocols.Udp, TpSrc = 3, TpDst = 4, NwFrag = FlowKey.FragAny };
        var later = new FlowKey { EthType = EtherTypes.Ipv4, NwSrc = 1, NwDst = 2, NwProto = IpProtocols.Udp, NwFrag = FlowKey.FragAny | FlowKey.FragLater };
        Assert.Equal(ConnectionHash.SymmetricHash(in first), ConnectionHash.SymmetricHash(in later));
    }

    private static FlowKey RandomTuple(Random random, bool ipv6)
    {
        var key = new FlowKey
        {
            EthType = ipv6 ? EtherTypes.Ipv6 : EtherTypes.Ipv4,
            TpSrc = (ushort)random.Next(65536),
            TpDst = (ushort)random.Next(65536),
            CtZone = (ushort)random.Next(4),
        };
        if (ipv6)
        {
            key.Ipv6Src = new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64());
            key.Ipv6Dst = random.Next(8) == 0 ? key.Ipv6Src : new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64());
        }
        else
        {
            key.NwSrc = (uint)random.NextInt64(1L << 32);
            key.NwDst = random.Next(8) == 0 ? key.NwSrc : (uint)random.NextInt64(1L << 32);
        }

        return key;
    }

    private static FlowKey Reverse(FlowKey key)
    {
        var r = key;
        (r.NwSrc, r.NwDst) = (key.NwDst, key.NwSrc);
        (r.Ipv6Src, r.Ipv6Dst) = (key.Ipv6Dst, key.Ipv6Src);
        (r.TpSrc, r.TpDst) = (key.TpDst, key.TpSrc);
        return r;
    }
}
