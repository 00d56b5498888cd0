using Datapath.Packets;
using Datapath.Pipeline;

namespace Datapath.Tests.Pipeline.Core;

/// <summary>A PMD's packets: its own pool, bounded and counted, and every packet back to the pool it came from.</summary>
public sealed class PmdPacketsTests
{
    private static readonly byte[] Frame = new byte[64];

    [Fact]
    public void Receiving_beyond_the_pool_fails_and_is_counted()
    {
        var stats = new PmdCoreStats();
        var packets = new PmdPackets(2, new PacketBatchPool(), stats);

        Assert.True(packets.TryReceive(Frame, 1, out var first));
        Assert.True(packets.TryReceive(Frame, 2, out _));
        Assert.False(packets.TryReceive(Frame, 1, out _));

        Assert.Equal(1, stats.PoolExhausted);
        Assert.Equal(1u, first.Metadata.InPort);
        Assert.Equal(64, first.Length);
    }

    [Fact]
    public void A_port_packet_goes_back_to_its_port_pool_and_an_own_packet_to_the_own_pool()
    {
        var stats = new PmdCoreStats();
        var batches = new PacketBatchPool();
        var packets = new PmdPackets(1, batches, stats);
        var port = new PacketPool(2);
        Assert.True(port.TryRent(out var fromPort));
        Assert.True(packets.TryReceive(Frame, 1, out var own));
        var batch = batches.Rent();
        batch.Add(fromPort);
        batch.Add(own);

        packets.Release(batch);

        Assert.Equal(2, port.Available);
        Assert.Equal(0, batch.Count);
        Assert.True(packets.TryReceive(Frame, 1, out var again));
        Assert.Same(own, again);
    }
}
