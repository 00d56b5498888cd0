using Datapath.Packets;

namespace Datapath.Pipeline;

/// <summary>Transmission of one PMD: packets to the sink, as copies or (dp_netdev's may_steal) themselves.</summary>
internal sealed class OutputStage(IPacketSink sink, PmdPackets packets)
{
    /// <summary>Sends a copy: the sink keeps no reference, and the executor goes on with the packet.</summary>
    public void Output(uint port, Packet packet) => sink.Transmit(port, packet);

    /// <summary>The userspace action (OpenFlow's controller action): the sink keeps no reference either.</summary>
    public void Userspace(Packet packet, uint cookie) => sink.Userspace(packet, cookie);

    /// <summary>
    /// The last output of an action list: the sink takes the packets themselves when it can (a
    /// port's thread-safe pool gets them back after sending), saving a copy and a pool round trip;
    /// otherwise it gets copies and the packets go back to their pool.
    /// </summary>
    public void OutputLast(uint port, PacketBatch batch)
    {
        foreach (var packet in batch.Packets)
        {
            if (packet.Pool is not { IsThreadSafe: true } || !sink.TryTake(port, packet))
            {
                sink.Transmit(port, packet);
                packets.Recycle(packet);
            }
        }

        batch.Clear();
        packets.Batches.Return(batch);
    }
}
