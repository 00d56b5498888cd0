using Datapath.Actions;
using Datapath.Packets;

namespace Benchmarks.Support;

/// <summary>
/// An allocation-free action context (a struct, so <see cref="ActionExecutor"/> is specialised for it).
/// It counts what the actions did; it transmits nothing. With pools it recycles like a PMD does:
/// released packets go back to the packet pool and the batch to the batch pool. Without pools
/// the released batch stays with its owner, full, so an action benchmark reuses it as it is.
/// </summary>
internal struct BenchContext : IActionContext
{
    private readonly PacketPool? _packets;
    private readonly PacketBatchPool? _batches;

    public BenchContext(PacketPool? packets, PacketBatchPool? batches)
    {
        _packets = packets;
        _batches = batches;
    }

    public long Outputs;
    public long OutputBytes;
    public long Released;
    public long Unexpected;

    public void Output(uint port, Packet packet)
    {
        Outputs++;
        OutputBytes += packet.Length;
    }

    // Implemented here, not inherited: the interface's default body would box this struct.
    public void OutputLast(uint port, PacketBatch batch)
    {
        foreach (var packet in batch.Packets)
        {
            Output(port, packet);
        }

        Release(batch);
    }

    public void Release(PacketBatch batch)
    {
        Released += batch.Count;
        if (_packets is not null)
        {
            _packets.Return(batch);
        }

        _batches?.Return(batch);
    }

    public void Drop(Packet packet)
    {
        Unexpected++;
        _packets?.Return(packet);
    }

    // The benchmarked action lists never hand batches over: setup checks that these stay at zero.
    public void Conntrack(PacketBatch batch, in ConntrackArgs args, ActionList actions, int resumeAt) => Unexpected++;

    public void Recirculate(PacketBatch batch) => Unexpected++;

    public void Userspace(Packet packet, uint cookie) => Unexpected++;
}
