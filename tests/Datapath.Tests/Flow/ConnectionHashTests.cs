using Datapath.Flow;

namespace Datapath.Tests.Flow;

public sealed class ConnectionHashTests
{
    [Fact]
    public void Placement_hash_is_equal_for_both_directions_and_ignores_the_zone()
    {
        var random = new Random(17);
        for (int i = 0; i < 1000; i++)
        {
            var forward = RandomKey(random);
            var reverse = forward;
            (reverse.NwSrc, reverse.NwDst) = (forward.NwDst, forward.NwSrc);
            (reverse.Ipv6Src, reverse.Ipv6Dst) = (forward.Ipv6Dst, forward.Ipv6Src);
            (reverse.TpSrc, reverse.TpDst) = (forward.TpDst, forward.TpSrc);
            Assert.Equal(ConnectionHash.PlacementHash(in forward), ConnectionHash.PlacementHash(in reverse));

            var zoned = forward;
            zoned.CtZone = (ushort)random.Next(1, 65536);
            Assert.Equal(ConnectionHash.PlacementHash(in forward), ConnectionHash.PlacementHash(in zoned));
        }
    }

    [Theory]
    [InlineData("client address")]
    [InlineData("client port")]
    [InlineData("server port")]
    public void Connections_differing_in_one_endpoint_field_spread_over_shards_and_tables_like_random_hashes(string field)
    {
        // Shards take the hash modulo their count, conntrack tables its low bits: both must spread
        // the connections of real traffic (one client subnet, one server, ports in a row).
        const int buckets = 1 << 13;
        var lowBits = new bool[buckets];
        var modulo = new bool[buckets - 1];
        for (int i = 0; i < buckets; i++)
        {
            uint client = field == "client address" ? 0x0A00_0000u + (uint)i : 0x0A00_0001u;
            ushort clientPort = field == "client port" ? (ushort)(1024 + i) : (ushort)40000;
            ushort serverPort = field == "server port" ? (ushort)(1 + i) : (ushort)80;
            uint hash = ConnectionHash.SymmetricHash(0, IpProtocols.Tcp, client, clientPort, 0xC0A8_0001u, serverPort);
            lowBits[hash & (buckets - 1)] = true;
            modulo[hash % (buckets - 1)] = true;
        }

        // Random hashing of n keys into n buckets fills 1 - 1/e (63.2 %) of them.
        Assert.InRange(lowBits.Count(u => u) / (double)lowBits.Length, 0.61, 0.66);
        Assert.InRange(modulo.Count(u => u) / (double)modulo.Length, 0.61, 0.66);
    }

    [Theory]
    [InlineData(IpProtocols.Tcp, (ushort)40000, (ushort)80)]
    [InlineData(IpProtocols.Udp, (ushort)5001, (ushort)1024)]
    [InlineData(IpProtocols.Sctp, (ushort)9, (ushort)9)]
    [InlineData(IpProtocols.Icmp, (ushort)8, (ushort)0)]
    public void Placement_hash_of_an_ipv4_tuple_is_the_placement_hash_of_its_key_either_way_round(byte protocol, ushort portA, ushort portB)
    {
        // ICMP's key holds type and code where the ports would be: the tuple's ports must not count there either.
        var key = new FlowKey { EthType = EtherTypes.Ipv4, NwSrc = 0x0A00_0001, NwDst = 0x0A01_0001, NwProto = protocol, TpSrc = portA, TpDst = portB };
        uint expected = ConnectionHash.PlacementHash(in key);

        Assert.Equal(expected, ConnectionHash.PlacementHash(protocol, 0x0A00_0001, portA, 0x0A01_0001, portB));
        Assert.Equal(expected, ConnectionHash.PlacementHash(protocol, 0x0A01_0001, portB, 0x0A00_0001, portA));
    }

    [Fact]
    public void Placement_hash_separates_ports_of_tcp_and_udp_but_not_of_fragments_or_icmp()
    {
        var udp = new FlowKey { EthType = EtherTypes.Ipv4, NwSrc = 0x0A00_0001, NwDst = 0x0A00_0002, NwProto = IpProtocols.Udp, TpSrc = 1000, TpDst = 53 };
        var otherPort = udp;
        otherPort.TpSrc = 1001;
        Assert.NotEqual(ConnectionHash.PlacementHash(in udp), ConnectionHash.PlacementHash(in otherPort));

        var fragment = udp;
        fragment.NwFrag = FlowKey.FragAny;
        var laterFragment = fragment;
        laterFragment.TpSrc = 0;
        laterFragment.TpDst = 0;
        Assert.Equal(ConnectionHash.PlacementHash(in fragment), ConnectionHash.PlacementHash(in laterFragment));

        var echo = new FlowKey { EthType = EtherTypes.Ipv4, NwSrc = 0x0A00_0001, NwDst = 0x0A00_0002, NwProto = IpProtocols.Icmp, TpSrc = 8 };
        var reply = new FlowKey { EthType = EtherTypes.Ipv4, NwSrc = 0x0A00_0002, NwDst = 0x0A00_0001, NwProto = IpProtocols.Icmp, TpSrc = 0 };
        Assert.Equal(ConnectionHash.PlacementHash(in echo), ConnectionHash.PlacementHash(in reply));

        var arp = new FlowKey { EthType = EtherTypes.Arp, NwSrc = 0x0A00_0001, NwDst = 0x0A00_0002 };
        Assert.Equal(0u, ConnectionHash.PlacementHash(in arp));
    }

    private static FlowKey RandomKey(Random random)
    {
        byte proto = random.Next(3) switch { 0 => IpProtocols.Tcp, 1 => IpProtocols.Udp, _ => IpProtocols.Icmp };
        return random.Next(2) == 0
            ? new FlowKey { EthType = EtherTypes.Ipv4, NwSrc = (uint)random.Next(), NwDst = (uint)random.Next(), NwProto = proto, TpSrc = (ushort)random.Next(65536), TpDst = (ushort)random.Next(65536) }
            : new FlowKey { EthType = EtherTypes.Ipv6, Ipv6Src = new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64()), Ipv6Dst = new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64()), NwProto = proto, TpSrc = (ushort)random.Next(65536), TpDst = (ushort)random.Next(65536) };
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
