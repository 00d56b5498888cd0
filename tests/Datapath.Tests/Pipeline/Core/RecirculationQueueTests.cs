using Datapath.Actions;
using Datapath.Packets;
using Datapath.Pipeline;

namespace Datapath.Tests.Pipeline.Core;

/// <summary>The work queued behind a call: in order, and recirculation bounded by depth.</summary>
public sealed class RecirculationQueueTests
{
    [Fact]
    public void Packets_past_the_depth_limit_are_dropped_counted_and_recycled_and_the_rest_keep_their_order()
    {
        var stats = new PmdCoreStats();
        var own = new PacketPool(4);
        var packets = new PmdPackets(1, new PacketBatchPool(), stats);
        var queue = new RecirculationQueue(maxDepth: 2, packets, stats);
        var batch = new PacketBatch();
        var rented = new List<Packet>();
        foreach (byte depth in new byte[] { 1, 3, 2, 5 })
        {
            Assert.True(own.TryRent(out var packet));
            packet.Metadata.RecircDepth = depth;
            batch.Add(packet);
            rented.Add(packet);
        }

        queue.Recirculate(batch);

        Assert.True(queue.TryDequeue(out var work));
        Assert.Null(work.Actions);
        Assert.Equal([rented[0], rented[2]], work.Batch.Packets.ToArray());
        Assert.Equal(2, stats.RecirculationDepthExceeded);
        Assert.Equal(2, own.Available);
    }

    [Fact]
    public void Work_comes_out_in_the_order_it_was_queued()
    {
        var stats = new PmdCoreStats();
        var queue = new RecirculationQueue(8, new PmdPackets(1, new PacketBatchPool(), stats), stats);
        var actions = new ActionList([DatapathAction.Output(2)]);
        var first = new PacketBatch();
        var second = new PacketBatch();

        queue.Continue(first, actions, 1);
        queue.Recirculate(second);

        Assert.Equal(2, queue.Count);
        Assert.True(queue.TryDequeue(out var a));
        Assert.True(queue.TryDequeue(out var b));
        Assert.Equal((first, actions, 1), (a.Batch, a.Actions, a.ResumeAt));
        Assert.Same(second, b.Batch);
        Assert.False(queue.TryDequeue(out _));
    }
}
