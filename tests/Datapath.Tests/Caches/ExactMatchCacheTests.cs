using Datapath.Actions;
using Datapath.Caches;
using Datapath.Flow;

namespace Datapath.Tests.Caches;

public class ExactMatchCacheTests
{
    // With 16 entries a hash's first slot is its bits 0-3 and its second slot its bits 4-7.
    private const int SmallSize = 16;

    [Fact]
    public void Lookup_returns_the_megaflow_inserted_for_the_same_key()
    {
        var emc = new ExactMatchCache();
        FlowKey key = Key(1);
        Megaflow flow = FlowFor(key);

        emc.Insert(in key, FlowHash.Hash(in key), flow);

        Assert.Same(flow, emc.Lookup(in key, FlowHash.Hash(in key)));
        Assert.Equal(1, emc.Hits);
        Assert.Equal(1, emc.Inserts);
    }

    [Fact]
    public void Lookup_misses_a_different_key_even_with_the_same_hash()
    {
        var emc = new ExactMatchCache(SmallSize);
        FlowKey key = Key(1);
        FlowKey other = Key(2);
        emc.Insert(in key, 0x15, FlowFor(key));

        Assert.Null(emc.Lookup(in other, 0x15));
        Assert.Null(emc.Lookup(in other, FlowHash.Hash(in other)));
        Assert.Equal(2, emc.Misses);
        Assert.Equal(0, emc.Hits);
    }

    [Fact]
    public void Lookup_misses_the_same_key_under_a_different_hash()
    {
        var emc = new ExactMatchCache(SmallSize);
        FlowKey key = Key(1);
        emc.Insert(in key, 0x15, FlowFor(key));

        // 0x25 shares the first slot but is not the hash the entry was stored with.
        Assert.Null(emc.Lookup(in key, 0x25));
    }

    [Fact]
    public void Two_keys_sharing_their_first_slot_both_stay_cached()
    {
        var emc = new ExactMatchCache(SmallSize);
        FlowKey a = Key(1), b = Key(2);
        Megaflow fa = FlowFor(a), fb = FlowFor(b);

        emc.Insert(in a, 0x13, fa); // slots 3, 1
        emc.Insert(in b, 0x23, fb); // slots 3, 2

        Assert.Same(fa, emc.Lookup(in a, 0x13));
        Assert.Same(fb, emc.Lookup(in b, 0x23));
        Assert.Equal(2, emc.CountLive());
    }

    [Fact]
    public void Slots_come_from_two_segments_of_the_hash()
    {
        var emc = new ExactMatchCache(SmallSize);

        Assert.Equal((3, 1), emc.SlotsOf(0x13));
        Assert.Equal((0xA, 0xB), emc.SlotsOf(0x1234_56BA));
    }

    [Fact]
    public void Inserting_a_cached_key_again_replaces_its_flow_in_place()
    {
        var emc = new ExactMatchCache(SmallSize);
        FlowKey a = Key(1), b = Key(2);
        Megaflow old = FlowFor(a), fresh = FlowFor(a), fb = FlowFor(b);
        emc.Insert(in b, 0x23, fb);  // slot 3
        emc.Insert(in a, 0x43, old); // slot 4 (3 is taken and alive)

        emc.Insert(in a, 0x43, fresh);

        Assert.Same(fresh, emc.Lookup(in a, 0x43));
        Assert.Same(fb, emc.Lookup(in b, 0x23));
        Assert.Equal(2, emc.CountLive());
    }

    [Fact]
    public void With_both_slots_alive_the_entry_with_the_lower_hash_is_replaced()
    {
        var emc = new ExactMatchCache(SmallSize);
        FlowKey x = Key(1), y = Key(2), z = Key(3);
        Megaflow fx = FlowFor(x), fy = FlowFor(y), fz = FlowFor(z);
        emc.Insert(in x, 0x13, fx); // slot 3
        emc.Insert(in y, 0x24, fy); // slot 4

        emc.Insert(in z, 0x43, fz); // slots 3 (hash 0x13) and 4 (hash 0x24)

        Assert.Null(emc.Lookup(in x, 0x13));
        Assert.Same(fy, emc.Lookup(in y, 0x24));
        Assert.Same(fz, emc.Lookup(in z, 0x43));
    }

    [Fact]
    public void An_entry_of_a_dead_megaflow_is_replaced_before_a_live_one()
    {
        var emc = new ExactMatchCache(SmallSize);
        FlowKey x = Key(1), y = Key(2), z = Key(3);
        Megaflow fx = FlowFor(x), fy = FlowFor(y), fz = FlowFor(z);
        emc.Insert(in x, 0x13, fx); // slot 3, lower hash
        emc.Insert(in y, 0x24, fy); // slot 4
        fy.MarkDead();

        emc.Insert(in z, 0x43, fz);

        Assert.Same(fx, emc.Lookup(in x, 0x13));
        Assert.Same(fz, emc.Lookup(in z, 0x43));
    }

    [Fact]
    public void An_entry_of_an_old_generation_is_replaced_before_a_live_one()
    {
        var emc = new ExactMatchCache(SmallSize);
        FlowKey x = Key(1), y = Key(2), z = Key(3);
        Megaflow fx = FlowFor(x), fy = FlowFor(y), fz = FlowFor(z);
        emc.Insert(in y, 0x24, fy); // slot 4
        emc.InvalidateAll();
        emc.Insert(in x, 0x13, fx); // slot 3, current generation, lower hash

        emc.Insert(in z, 0x43, fz);

        Assert.Same(fx, emc.Lookup(in x, 0x13));
        Assert.Same(fz, emc.Lookup(in z, 0x43));
    }

    [Fact]
    public void Keys_that_share_a_hash_because_they_differ_only_outside_its_words_keep_their_own_flows()
    {
        // The EMC hash leaves the ND target out (as Open vSwitch's 5-tuple hash leaves out all but
        // the 5-tuple): two neighbour solicitations for different targets land in the same two slots.
        var emc = new ExactMatchCache(SmallSize);
        FlowKey a = Key(1), b = Key(1), c = Key(1);
        a.NdTarget = new UInt128(0xFE80_0000_0000_0000, 1);
        b.NdTarget = new UInt128(0xFE80_0000_0000_0000, 2);
        c.NdTarget = new UInt128(0xFE80_0000_0000_0000, 3);
        Assert.Equal(FlowHash.Hash(in a), FlowHash.Hash(in b));
        Megaflow fa = FlowFor(a), fb = FlowFor(b);

        emc.Insert(in a, FlowHash.Hash(in a), fa);
        emc.Insert(in b, FlowHash.Hash(in b), fb);

        Assert.Same(fa, emc.Lookup(in a, FlowHash.Hash(in a)));
        Assert.Same(fb, emc.Lookup(in b, FlowHash.Hash(in b)));
        Assert.Null(emc.Lookup(in c, FlowHash.Hash(in c)));
    }

    [Fact]
    public void InvalidateAll_makes_every_entry_miss_until_reinserted()
    {
        var emc = new ExactMatchCache(SmallSize);
        FlowKey a = Key(1), b = Key(2);
        Megaflow fa = FlowFor(a), fb = FlowFor(b);
        emc.Insert(in a, FlowHash.Hash(in a), fa);
        emc.Insert(in b, FlowHash.Hash(in b), fb);

        emc.InvalidateAll();

        Assert.Null(emc.Lookup(in a, FlowHash.Hash(in a)));
        Assert.Null(emc.Lookup(in b, FlowHash.Hash(in b)));
        Assert.Equal(0, emc.CountLive());

        emc.Insert(in a, FlowHash.Hash(in a), fa);
        Assert.Same(fa, emc.Lookup(in a, FlowHash.Hash(in a)));
        Assert.Null(emc.Lookup(in b, FlowHash.Hash(in b)));
    }

    [Fact]
    public void An_entry_whose_megaflow_died_misses()
    {
        var emc = new ExactMatchCache();
        FlowKey key = Key(1);
        Megaflow flow = FlowFor(key);
        emc.Insert(in key, FlowHash.Hash(in key), flow);

        flow.MarkDead();

        Assert.Null(emc.Lookup(in key, FlowHash.Hash(in key)));
        Assert.Equal(1, emc.Misses);
    }

    [Fact]
    public void Insertion_probability_one_in_one_always_inserts()
    {
        var emc = new ExactMatchCache(insertInverseProbability: 1);

        for (uint i = 0; i < 1000; i++)
        {
            FlowKey key = Key(i);
            Assert.True(emc.ProbabilisticInsert(in key, FlowHash.Hash(in key), FlowFor(key)));
        }

        Assert.Equal(1000, emc.Inserts);
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(42UL)]
    [InlineData(0xDEAD_BEEFUL)]
    public void Insertion_probability_one_in_a_hundred_inserts_about_one_percent(ulong seed)
    {
        var emc = new ExactMatchCache(insertInverseProbability: 100, seed: seed);
        FlowKey key = Key(7);
        Megaflow flow = FlowFor(key);
        uint hash = FlowHash.Hash(in key);
        const int Trials = 100_000;

        int inserted = 0;
        for (int i = 0; i < Trials; i++)
        {
            if (emc.ProbabilisticInsert(in key, hash, flow))
            {
                inserted++;
            }
        }

        // Expected 1000, standard deviation about 31.5: the bounds are five deviations wide.
        Assert.InRange(inserted, 843, 1157);
        Assert.Equal(inserted, emc.Inserts);
    }

    [Fact]
    public void Insertion_probability_zero_disables_the_cache()
    {
        var emc = new ExactMatchCache(insertInverseProbability: 0);
        Assert.False(emc.IsEnabled);

        for (uint i = 0; i < 1000; i++)
        {
            FlowKey key = Key(i);
            Assert.False(emc.ProbabilisticInsert(in key, FlowHash.Hash(in key), FlowFor(key)));
            Assert.Null(emc.Lookup(in key, FlowHash.Hash(in key)));
        }

        Assert.Equal(0, emc.Inserts);
    }

    [Fact]
    public void Insertion_probability_can_be_changed_at_run_time()
    {
        var emc = new ExactMatchCache(insertInverseProbability: 0);
        FlowKey key = Key(1);

        emc.InsertInverseProbability = 1;

        Assert.True(emc.IsEnabled);
        Assert.True(emc.ProbabilisticInsert(in key, FlowHash.Hash(in key), FlowFor(key)));
        Assert.Throws<ArgumentOutOfRangeException>(() => emc.InsertInverseProbability = -1);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1000)]
    [InlineData(-8)]
    [InlineData(ExactMatchCache.MaxSize * 2)]
    public void Sizes_that_are_not_powers_of_two_in_range_are_rejected(int size)
    {
        var ex = Assert.Throws<ArgumentException>(() => new ExactMatchCache(size));
        Assert.Equal("size", ex.ParamName);
        Assert.Contains("power of two", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(8192)]
    [InlineData(1 << 20)]
    public void Powers_of_two_in_range_are_accepted(int size)
    {
        var emc = new ExactMatchCache(size);
        FlowKey key = Key(3);
        Megaflow flow = FlowFor(key);
        emc.Insert(in key, FlowHash.Hash(in key), flow);

        Assert.Equal(size, emc.Size);
        Assert.Same(flow, emc.Lookup(in key, FlowHash.Hash(in key)));
    }

    [Fact]
    public void Lookup_and_insert_allocate_nothing()
    {
        var emc = new ExactMatchCache(insertInverseProbability: 2);
        var keys = new FlowKey[64];
        var hashes = new uint[64];
        var flows = new Megaflow[64];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = Key((uint)i);
            hashes[i] = FlowHash.Hash(in keys[i]);
            flows[i] = FlowFor(keys[i]);
        }

        RunOnce(emc, keys, hashes, flows); // warm up the JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        RunOnce(emc, keys, hashes, flows);
        long after = GC.GetAllocatedBytesForCurrentThread();

        Assert.Equal(0, after - before);

        static void RunOnce(ExactMatchCache emc, FlowKey[] keys, uint[] hashes, Megaflow[] flows)
        {
            for (int i = 0; i < keys.Length; i++)
            {
                emc.Insert(in keys[i], hashes[i], flows[i]);
                emc.ProbabilisticInsert(in keys[i], hashes[i], flows[i]);
                emc.Lookup(in keys[i], hashes[i]);
            }
        }
    }

    /// <summary>A realistic IPv4/TCP key, distinct per <paramref name="n"/>.</summary>
    private static FlowKey Key(uint n)
    {
        var k = default(FlowKey);
        k.InPort = 1;
        k.EthType = EtherTypes.Ipv4;
        k.NwProto = IpProtocols.Tcp;
        k.NwSrc = 0x0A00_0001;
        k.NwDst = 0x0A00_0002 + n;
        k.TpSrc = (ushort)(1024 + n);
        k.TpDst = 80;
        return k;
    }

    private static Megaflow FlowFor(in FlowKey key)
    {
        FlowKey mask = FlowKey.AllOnes;
        return new Megaflow(in key, in mask, ActionList.Empty);
    }
}
