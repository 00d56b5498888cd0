using Datapath.Packets;

namespace Datapath.Tests.Packets;

/// <summary>A port's receive pool: bounded, made lazily, rented and returned a packet or a batch at a time, from any thread.</summary>
public sealed class ConcurrentPacketPoolTests
{
    [Fact]
    public void RentMany_makes_packets_up_to_the_size_and_then_gives_only_what_came_back()
    {
        var pool = new ConcurrentPacketPool(40);
        var batch = new Packet[32];

        Assert.Equal(32, pool.RentMany(batch));
        Assert.Equal(8, pool.Available);
        Assert.Equal(8, pool.RentMany(batch.AsSpan(0, 32)[..8]));
        Assert.Equal(0, pool.RentMany(batch));
        Assert.False(pool.TryRent(out _));

        pool.ReturnMany(batch.AsSpan(0, 5));
        Assert.Equal(5, pool.Available);
        Assert.Equal(5, pool.RentMany(batch));
        Assert.All(batch.Take(5), p => Assert.Same(pool, p.Pool));
    }

    [Fact]
    public void The_packet_returned_last_is_rented_first()
    {
        var pool = new ConcurrentPacketPool(4);
        Assert.True(pool.TryRent(out var a));
        Assert.True(pool.TryRent(out var b));

        pool.Return(a);
        pool.Return(b);

        Assert.True(pool.TryRent(out var first));
        Assert.Same(b, first);
    }

    [Fact]
    public void A_packet_returned_to_a_pool_that_has_all_its_packets_is_refused()
    {
        var pool = new ConcurrentPacketPool(2);
        Assert.True(pool.TryRent(out var a));
        pool.Return(a);
        Assert.True(pool.TryRent(out var b));
        Assert.True(pool.TryRent(out var c));
        pool.ReturnMany([b, c]);

        Assert.Throws<InvalidOperationException>(() => pool.Return(b));
    }

    [Fact]
    public async Task Packets_rented_on_one_thread_and_returned_on_others_all_come_back()
    {
        const int size = 256;
        const int rounds = 20_000;
        var pool = new ConcurrentPacketPool(size);
        using var returns = new System.Collections.Concurrent.BlockingCollection<Packet[]>(boundedCapacity: 4);
        var returners = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            foreach (var batch in returns.GetConsumingEnumerable())
            {
                pool.ReturnMany(batch);
            }
        })).ToArray();

        var seen = new HashSet<Packet>(ReferenceEqualityComparer.Instance);
        for (int round = 0; round < rounds; round++)
        {
            var batch = new Packet[8];
            int rented;
            while ((rented = pool.RentMany(batch)) == 0)
            {
                Thread.Yield();
            }

            foreach (var packet in batch.AsSpan(0, rented))
            {
                seen.Add(packet);
            }

            returns.Add(batch[..rented]);
        }

        returns.CompleteAdding();
        await Task.WhenAll(returners);

        Assert.Equal(size, pool.Available);
        Assert.True(seen.Count <= size);
        var all = new Packet[size];
        Assert.Equal(size, pool.RentMany(all));
        Assert.Equal(size, all.Distinct(ReferenceEqualityComparer.Instance).Count());
    }
}
