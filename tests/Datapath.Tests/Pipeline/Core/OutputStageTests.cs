using Datapath.Packets;
using Datapath.Pipeline;

namespace Datapath.Tests.Pipeline.Core;

/// <summary>Transmission: copies for the sink, or (last output) the packets themselves when the sink and the pool allow it.</summary>
public sealed class OutputStageTests
{
    [Fact]
    public void A_last_output_hands_over_what_the_sink_takes_and_copies_and_recycles_the_rest()
    {
        var batches = new PacketBatchPool();
        var packets = new PmdPackets(1, batches, new PmdCoreStats());
        var sink = new Sink { Takes = true };
        var stage = new OutputStage(sink, packets);
        var shared = new ConcurrentPacketPool(2);
        Assert.True(shared.TryRent(out var fromSharedPool));
        Assert.True(packets.TryReceive(new byte[64], 1, out var own));
        var batch = batches.Rent();
        batch.Add(fromSharedPool);
        batch.Add(own);

        stage.OutputLast(3, batch);

        Assert.Equal([(3u, fromSharedPool)], sink.Taken);
        Assert.Equal([(3u, own)], sink.Copied);
        Assert.Equal(0, batch.Count);
        Assert.True(packets.TryReceive(new byte[64], 1, out _));
    }

    [Fact]
    public void A_sink_that_takes_nothing_gets_copies_of_every_packet()
    {
        var batches = new PacketBatchPool();
        var packets = new PmdPackets(1, batches, new PmdCoreStats());
        var sink = new Sink();
        var shared = new ConcurrentPacketPool(1);
        Assert.True(shared.TryRent(out var packet));
        var batch = batches.Rent();
        batch.Add(packet);

        new OutputStage(sink, packets).OutputLast(2, batch);

        Assert.Empty(sink.Taken);
        Assert.Single(sink.Copied);
        Assert.Equal(1, shared.Available);
    }

    private sealed class Sink : IPacketSink
    {
        public bool Takes { get; init; }

        public List<(uint, Packet)> Taken { get; } = [];

        public List<(uint, Packet)> Copied { get; } = [];

        public void Transmit(uint port, Packet packet) => Copied.Add((port, packet));

        public bool TryTake(uint port, Packet packet)
        {
            if (Takes)
            {
                Taken.Add((port, packet));
            }

            return Takes;
        }
    }
}
