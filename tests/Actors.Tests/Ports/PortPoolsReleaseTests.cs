using Actors.Ports;
using Datapath.Packets;

namespace Actors.Tests.Ports;

/// <summary>A transmitted batch goes back whole: each packet to the pool it came from, whatever the mix.</summary>
public sealed class PortPoolsReleaseTests
{
    [Fact]
    public void ReleaseAll_gives_each_packet_back_to_its_own_pool_and_leaves_packets_of_no_pool()
    {
        var a = new ConcurrentPacketPool(8);
        var b = new ConcurrentPacketPool(8);
        var scratch = new Packet();
        var batch = new Packet[6];
        Assert.Equal(3, a.RentMany(batch.AsSpan(0, 3)));
        Assert.True(b.TryRent(out batch[3]));
        batch[4] = scratch;
        Assert.True(a.TryRent(out batch[5]));
        Assert.Equal(4, a.Available);
        Assert.Equal(7, b.Available);

        PortPools.ReleaseAll(batch);

        Assert.Equal(8, a.Available);
        Assert.Equal(8, b.Available);
        Assert.Null(scratch.Pool);
    }
}
