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
    private readonly int _packetCapacity;

    // Packets made so far (see PacketPool: made as the pool is first drained, up to Size).
    private int _made;

    public bool IsThreadSafe => true;

    public ConcurrentPacketPool(int size, int packetCapacity = Packet.DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        ArgumentOutOfRangeException.ThrowIfLessThan(packetCapacity, Packet.DefaultHeadroom + 64);
        Size = size;
        _packetCapacity = packetCapacity;
    }

    /// <summary>The number of packets this pool holds at most.</summary>
    public int Size { get; }

    /// <summary>Packets that may be rented now (those free, and those not made yet).</summary>
    public int Available => _free.Count + (Size - Volatile.Read(ref _made));

    public bool TryRent(out Packet packet)
    {
        if (_free.TryDequeue(out packet!))
        {
            return true;
        }

        // Only the owner rents, but packets come back from any thread: the count is the one shared word.
        for (int made = Volatile.Read(ref _made); made < Size; made = Volatile.Read(ref _made))
        {
            if (Interlocked.CompareExchange(ref _made, made + 1, made) == made)
            {
                packet = new Packet(_packetCapacity) { Pool = this };
                return true;
            }
        }

        return false;
    }

    public void Return(Packet packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        _free.Enqueue(packet);
    }
}
