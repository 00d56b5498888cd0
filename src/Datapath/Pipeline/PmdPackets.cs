using Datapath.Packets;

namespace Datapath.Pipeline;

/// <summary>
/// The packets of one PMD: its own pool (for packets it receives itself, held fragments included)
/// and the rule that every packet goes back to the pool it came from (this PMD's or a port's), in
/// one place. Not thread-safe: one owner.
/// </summary>
internal sealed class PmdPackets(int poolSize, PacketBatchPool batches, PmdCoreStats stats)
{
    private readonly PacketPool _own = new(poolSize);

    public PacketBatchPool Batches => batches;

    /// <summary>A packet from this PMD's pool holding <paramref name="frame"/>; false (counted) when the pool is empty.</summary>
    public bool TryReceive(ReadOnlySpan<byte> frame, uint inPort, out Packet packet)
    {
        if (!_own.TryRent(out packet))
        {
            stats.PoolExhausted++;
            return false;
        }

        packet.SetFrame(frame, inPort);
        return true;
    }

    /// <summary>Gives a packet back to the pool it came from.</summary>
    public void Recycle(Packet packet) => (packet.Pool ?? _own).Return(packet);

    /// <summary>Gives every packet of <paramref name="batch"/> back, and the batch to the batch pool.</summary>
    public void Release(PacketBatch batch)
    {
        foreach (var packet in batch.Packets)
        {
            Recycle(packet);
        }

        batch.Clear();
        batches.Return(batch);
    }
}
