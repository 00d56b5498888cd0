using System.Collections.Concurrent;

namespace Datapath.Packets;

/// <summary>
/// A bounded pool whose packets may be returned from any thread: a port's receive pool, whose
/// packets travel to a PMD actor and come back when the PMD is done with them. Renting from an
/// empty pool fails (the caller counts an overload drop) rather than growing memory.
/// </summary>
public sealed class ConcurrentPacketPool : IPacketPool
{
    private readonly ConcurrentQueue<Packet> _free = new();

    public bool IsThreadSafe => true;

    public ConcurrentPacketPool(int size, int packetCapacity = Packet.DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        Size = size;
        for (int i = 0; i < size; i++)
        {
            _free.Enqueue(new Packet(packetCapacity) { Pool = this });
        }
    }

    public int Size { get; }

    public int Available => _free.Count;

    public bool TryRent(out Packet packet) => _free.TryDequeue(out packet!);

    public void Return(Packet packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        _free.Enqueue(packet);
    }
}
