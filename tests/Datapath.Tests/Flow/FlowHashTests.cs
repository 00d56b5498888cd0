using System.Numerics;
using Datapath.Flow;

namespace Datapath.Tests.Flow;

/// <summary>
/// The EMC indexes its table with the low bits of <see cref="FlowHash.Hash"/>; a hash that
/// clustered the keys of real traffic (flows differing in one field) would turn hits into misses.
/// </summary>
public sealed class FlowHashTests
{
    private const int TableBits = 13;

    public static TheoryData<string> Fields => new() { "tp_src", "nw_src", "ipv6_dst_low", "in_port", "ct_mark", "vlan_tci", "eth_src" };

    [Theory]
    [MemberData(nameof(Fields))]
    public void Keys_differing_in_one_field_fill_an_EMC_sized_table_like_random_hashes(string field)
    {
        var used = new bool[1 << TableBits];
        var key = BaseKey();
        int keys = 1 << TableBits;
        for (int i = 0; i < keys; i++)
        {
            Vary(ref key, field, (uint)i);
            used[FlowHash.Hash(in key) & ((1 << TableBits) - 1)] = true;
        }

        // Random hashing of n keys into n buckets fills 1 - 1/e (63.2 %) of them.
        double filled = used.Count(u => u) / (double)used.Length;
        Assert.InRange(filled, 0.61, 0.66);
    }

    [Fact]
    public void Flipping_any_single_bit_of_a_hashed_word_changes_about_half_of_the_hash_bits()
    {
        var rng = new Random(7);
        long flipped = 0;
        int trials = 0;
        for (int round = 0; round < 20; round++)
        {
            var key = default(FlowKey);
            for (int w = 0; w < FlowKey.WordCount; w++)
            {
                key[w] = (ulong)rng.NextInt64();
            }

            uint h = FlowHash.Hash(in key);
            for (int bit = 0; bit < FlowKey.WordCount * 64; bit++)
            {
                if (!FlowHash.IsHashedWord(bit / 64))
                {
                    continue;
                }

                var other = key;
                other[bit / 64] ^= 1UL << (bit % 64);
                int changed = BitOperations.PopCount(h ^ FlowHash.Hash(in other));
                Assert.NotEqual(0, changed);
                flipped += changed;
                trials++;
            }
        }

        Assert.InRange(flipped / (double)trials, 15.0, 17.0);
    }

    [Fact]
    public void The_hash_reads_the_identifying_words_and_leaves_out_ct_label_ARP_ND_and_the_ct_tuple()
    {
        var key = BaseKey();
        uint h = FlowHash.Hash(in key);
        int hashed = 0;
        for (int w = 0; w < FlowKey.WordCount; w++)
        {
            var other = key;
            other[w] ^= 0x0101_0101_0101_0101UL;
            bool changed = FlowHash.Hash(in other) != h;
            Assert.Equal(FlowHash.IsHashedWord(w), changed);
            hashed += changed ? 1 : 0;
        }

        // in_port/recirc_id, ct_state/zone/mark, Ethernet (2), VLANs, nw_proto..frag, IPv4, IPv6 (4), ports.
        Assert.Equal(12, hashed);
    }

    [Fact]
    public void The_hash_is_a_function_of_the_key_alone()
    {
        var a = BaseKey();
        var b = BaseKey();

        Assert.Equal(FlowHash.Hash(in a), FlowHash.Hash(in b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    private static FlowKey BaseKey()
    {
        var key = default(FlowKey);
        key.InPort = 1;
        key.EthType = EtherTypes.Ipv4;
        key.NwProto = IpProtocols.Udp;
        key.NwSrc = 0x0A00_0001;
        key.NwDst = 0x0A00_0002;
        key.TpSrc = 1024;
        key.TpDst = 53;
        return key;
    }

    private static void Vary(ref FlowKey key, string field, uint i)
    {
        switch (field)
        {
            case "tp_src": key.TpSrc = (ushort)i; break;
            case "nw_src": key.NwSrc = 0x0A00_0000 + i; break;
            case "ipv6_dst_low": key.Ipv6Dst = new UInt128(0xFD00_0000_0000_0000, i); break;
            case "in_port": key.InPort = i; break;
            case "ct_mark": key.CtMark = i; break;
            case "vlan_tci": key.Vlan0Tci = (ushort)(FlowKey.VlanPresent | (i & 0x0FFF)); key.Vlan1Tci = (ushort)(FlowKey.VlanPresent | (i >> 12)); break;
            case "eth_src": key.EthSrc = 0x0200_0000_0000UL + i; break;
            default: throw new ArgumentOutOfRangeException(nameof(field), field, null);
        }
    }
}
