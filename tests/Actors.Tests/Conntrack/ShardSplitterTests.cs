using Actors.Conntrack;
using Actors.Tests.Support;
using Datapath.Conntrack;

namespace Actors.Tests.Conntrack;

/// <summary>The one group-by-shard split of the PMD and ct-bench: shards in order, arrival order within each, invalid inputs apart.</summary>
public sealed class ShardSplitterTests
{
    [Fact]
    public void Inputs_are_grouped_by_their_shard_in_increasing_shard_order_keeping_arrival_order()
    {
        var inputs = Inputs(40);
        var splitter = new ShardSplitter(4);

        int groups = splitter.Split(inputs);

        Assert.True(groups > 1);
        var shards = Enumerable.Range(0, groups).Select(splitter.ShardOf).ToList();
        Assert.Equal(shards.Order(), shards);
        foreach (int g in Enumerable.Range(0, groups))
        {
            var expected = Enumerable.Range(0, inputs.Length).Where(i => ConntrackShards.ShardOf(inputs[i].ShardHash, 4) == splitter.ShardOf(g));
            Assert.Equal(expected, splitter.Group(g).ToArray());
            Assert.Equal(g, splitter.GroupOfShard(splitter.ShardOf(g)));
        }

        Assert.Empty(splitter.Invalid.ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(1000)]
    [InlineData(int.MaxValue)]
    public void The_division_free_shard_of_a_hash_is_the_hash_modulo_the_shard_count(int shards)
    {
        var random = new Random(shards);
        ulong multiplier = ConntrackShards.ModMultiplier(shards);
        uint[] edges = [0, 1, (uint)shards - 1, (uint)shards, uint.MaxValue, uint.MaxValue - 1, 0x8000_0000];
        foreach (uint hash in edges.Concat(Enumerable.Range(0, 100_000).Select(_ => (uint)random.NextInt64(0, 1L << 32))))
        {
            Assert.Equal(ConntrackShards.ShardOf(hash, shards), ConntrackShards.ShardOf(hash, shards, multiplier));
        }
    }

    [Fact]
    public void Invalid_inputs_belong_to_no_shard_and_are_listed_apart_in_arrival_order()
    {
        var inputs = Inputs(6);
        inputs[1].InvalidReason = ConntrackCounter.NotIp;
        inputs[4].InvalidReason = ConntrackCounter.NotIp;
        var splitter = new ShardSplitter(3);

        int groups = splitter.Split(inputs);

        Assert.Equal([1, 4], splitter.Invalid.ToArray());
        Assert.Equal(4, Enumerable.Range(0, groups).Sum(g => splitter.Group(g).Length));
    }

    [Fact]
    public void A_reused_splitter_forgets_the_shards_of_the_previous_split()
    {
        var inputs = Inputs(32);
        var splitter = new ShardSplitter(8);
        splitter.Split(inputs);

        int groups = splitter.Split(inputs.AsSpan(0, 1));

        Assert.Equal(1, groups);
        Assert.Equal([0], splitter.Group(0).ToArray());
        Assert.Equal(1, Enumerable.Range(0, 8).Count(s => splitter.GroupOfShard(s) >= 0));
    }

    [Fact]
    public void Inputs_that_all_reach_one_shard_are_one_group_in_arrival_order_without_the_invalid_ones()
    {
        var inputs = Inputs(8);
        inputs[2].InvalidReason = ConntrackCounter.NotIp;
        inputs[7].InvalidReason = ConntrackCounter.NotIp;
        var splitter = new ShardSplitter(1);

        int groups = splitter.Split(inputs);

        Assert.Equal(1, groups);
        Assert.Equal(0, splitter.ShardOf(0));
        Assert.Equal(0, splitter.GroupOfShard(0));
        Assert.Equal([0, 1, 3, 4, 5, 6], splitter.Group(0).ToArray());
        Assert.Equal([2, 7], splitter.Invalid.ToArray());
    }

    [Fact]
    public void A_one_shard_split_of_invalid_inputs_only_has_no_group_and_the_next_split_groups_again()
    {
        var inputs = Inputs(4);
        var splitter = new ShardSplitter(1);
        splitter.Split(inputs);
        var invalid = inputs.ToArray();
        for (int i = 0; i < invalid.Length; i++)
        {
            invalid[i].InvalidReason = ConntrackCounter.NotIp;
        }

        Assert.Equal(0, splitter.Split(invalid));
        Assert.Equal(-1, splitter.GroupOfShard(0));
        Assert.Equal([0, 1, 2, 3], splitter.Invalid.ToArray());

        Assert.Equal(1, splitter.Split(inputs.AsSpan(1, 2)));
        Assert.Equal([0, 1], splitter.Group(0).ToArray());
        Assert.Empty(splitter.Invalid.ToArray());
    }

    [Fact]
    public void A_split_over_many_shards_after_a_split_to_one_groups_as_if_it_were_the_first()
    {
        var inputs = Inputs(40);
        var splitter = new ShardSplitter(4);
        var single = inputs.Where(i => ConntrackShards.ShardOf(i.ShardHash, 4) == 3).ToArray();
        Assert.Equal(1, splitter.Split(single));
        Assert.Equal(3, splitter.ShardOf(0));

        int groups = splitter.Split(inputs);

        var fresh = new ShardSplitter(4);
        Assert.Equal(fresh.Split(inputs), groups);
        foreach (int g in Enumerable.Range(0, groups))
        {
            Assert.Equal(fresh.ShardOf(g), splitter.ShardOf(g));
            Assert.Equal(fresh.Group(g).ToArray(), splitter.Group(g).ToArray());
        }
    }

    private static ConntrackInput[] Inputs(int count) =>
        CaptureInputs.Read("many-conns.pcap").Select(x => x.Input).Where(i => i.IsValid).DistinctBy(i => i.ShardHash).Take(count).ToArray();
}
