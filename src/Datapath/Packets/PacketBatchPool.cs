namespace Datapath.Packets;

/// <summary>
/// Reusable batch objects of one owner. The pipeline rents one batch per flow it executes;
/// whoever ends up owning a batch (the action context, after output or a hand-over) returns it.
/// Not thread-safe: one owner, like <see cref="PacketPool"/>.
/// </summary>
public sealed class PacketBatchPool
{
    private readonly Stack<PacketBatch> _free = new();

    /// <summary>Batches created because the pool was empty (a steady state creates none).</summary>
    public long Created { get; private set; }

    public PacketBatch Rent()
    {
        if (_free.TryPop(out var batch))
        {
            return batch;
        }

        Created++;
        return new PacketBatch();
    }

    /// <summary>Takes back an empty batch; the caller has already handed its packets on.</summary>
    public void Return(PacketBatch batch)
    {
        batch.Clear();
        _free.Push(batch);
    }
}
