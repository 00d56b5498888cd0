using Datapath.Packets;
using Datapath.Tests.Support;
using Traffic;

namespace Traffic.Tests;

public class TrafficGeneratorPacingTests
{
    private static readonly TrafficProfile Busy = Defaults.TrafficProfile with { Connections = 2000, RequestsPerConnection = 3, FrameSize = TrafficWire.EveryLength };

    [Theory]
    [InlineData(100_000, 10_000)]
    [InlineData(1_000_000, 10_000)]
    [InlineData(50_000, 500_000)]
    public void At_a_rate_each_port_sends_the_frames_due_on_the_virtual_clock(long ratePps, long stepNs)
    {
        var wire = new TrafficWire(Busy with { RatePps = ratePps });
        const long durationNs = 200_000_000;

        wire.Run((int)(durationNs / stepNs), stepNs);

        // Frame k is due at k / rate; the caller asked at every step, up to one step past the end.
        long due = (ratePps * durationNs / 1_000_000_000) + 1;
        long sent = wire.Generator.Stats.FramesGenerated(1);
        Assert.InRange(sent, due - 1 - (ratePps * stepNs / 1_000_000_000), due);
        Assert.InRange(wire.Generator.Stats.FramesGenerated(2), due / 2, due);
    }

    [Fact]
    public void A_caller_that_asks_rarely_catches_up_on_the_frames_due_in_between()
    {
        var generator = new TrafficGenerator(Busy with { RatePps = 10_000 }, 1);
        var pool = new PacketPool(64);
        var batch = new PacketBatch();
        long sent = 0;

        generator.Fill(1, batch, pool, 0);
        sent += batch.Count;
        pool.Return(batch);

        // 10 ms later 100 frames are due: three full batches and the rest.
        int[] expected = [32, 32, 32, 4, 0];
        foreach (int count in expected)
        {
            Assert.Equal(count, generator.Fill(1, batch, pool, 10_000_000));
            sent += batch.Count;
            pool.Return(batch);
        }

        Assert.Equal(101, sent);
    }

    [Fact]
    public void Unpaced_each_call_fills_the_batch_while_frames_are_queued()
    {
        var generator = new TrafficGenerator(Busy, 1);
        var pool = new PacketPool(64);
        var batch = new PacketBatch();

        Assert.Equal(32, generator.Fill(1, batch, pool, 0));
        Assert.Equal(0, generator.Fill(1, batch, pool, 0));
        pool.Return(batch);
        Assert.Equal(32, generator.Fill(1, batch, pool, 0));
        Assert.Equal(Busy.Connections - 64, generator.Queued(1));
    }

    [Fact]
    public void A_dry_pool_limits_the_fill_and_leaves_the_rest_queued()
    {
        var generator = new TrafficGenerator(Busy, 1);
        var pool = new PacketPool(5);
        var batch = new PacketBatch();

        Assert.Equal(5, generator.Fill(1, batch, pool, 0));
        Assert.Equal(Busy.Connections - 5, generator.Queued(1));
    }
}
