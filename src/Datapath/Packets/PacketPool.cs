namespace Datapath.Packets;

/// <summary>
/// A bounded pool of packet buffers owned by one receiver (one per port queue, as in Kestrel's
/// per-queue pools). Not thread-safe by design: a pool has one owner; packets given away to
/// another owner come back through that owner's return path.
/// </summary>
public sealed class PacketPool : IPacketPool
{
    private readonly Stack<Packet> _free;
    private readonly int _packetCapacity;

    // Packets made so far: the pool makes them as it is first drained, up to Size, so that a short run
    // (a two-frame replay) does not zero megabytes of buffers it never uses; after that it only recycles.
    private int _made;

    public PacketPool(int size, int packetCapacity = Packet.DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        ArgumentOutOfRangeException.ThrowIfLessThan(packetCapacity, Packet.DefaultHeadroom + 64);
        _packetCapacity = packetCapacity;
        _free = new Stack<Packet>(size);
        Size = size;
    }

    /// <summary>The number of packets this pool holds at most.</summary>
    public int Size { get; }

    /// <summary>Packets that may be rented now (those free, and those not made yet).</summary>
    public int Available => _free.Count + (Size - _made);

    /// <summary>Times <see cref="TryRent"/> found the pool empty (the caller counts a drop).</summary>
    public long Exhausted { get; private set; }

    public bool TryRent(out Packet packet)
    {
        if (_free.TryPop(out var p))
        {
            packet = p;
            return true;
        }

        if (_made < Size)
        {
            _made++;
            packet = new Packet(_packetCapacity) { Pool = this };
            return true;
        }

        Exhausted++;
        packet = null!;
        return false;
    }

    public void Return(Packet packet)
    {
        if (_free.Count < _made)
        {
            _free.Push(packet);
        }
    }

    public void Return(PacketBatch batch)
    {
        foreach (var packet in batch.Packets)
        {
            Return(packet);
        }

        batch.Clear();
    }

    /// <summary>The buffer size of packets this pool makes.</summary>
    public int PacketCapacity => _packetCapacity;
}
