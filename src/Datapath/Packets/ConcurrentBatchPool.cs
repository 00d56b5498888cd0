using System.Collections.Concurrent;

namespace Datapath.Packets;

/// <summary>
/// Batch objects shared by the actors of one node: a batch travels from a port to a PMD (receive)
/// or from a PMD to a port (transmit) and is returned, empty, by whoever emptied it.
/// </summary>
public sealed class ConcurrentBatchPool
{
    private readonly ConcurrentQueue<PacketBatch> _free = new();
    private readonly Func<PacketBatch> _create;

    /// <param name="create">Makes a new batch when the pool is empty (a host's own batch type); plain batches by default.</param>
    public ConcurrentBatchPool(Func<PacketBatch>? create = null) => _create = create ?? (() => new PacketBatch());

    /// <summary>Batches created because the pool was empty (a steady state creates none).</summary>
    public long Created => Interlocked.Read(ref _created);

    private long _created;

    public PacketBatch Rent()
    {
        if (_free.TryDequeue(out var batch))
        {
            return batch;
        }

        Interlocked.Increment(ref _created);
        return _create();
    }

    public void Return(PacketBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        _free.Enqueue(batch);
    }
}
