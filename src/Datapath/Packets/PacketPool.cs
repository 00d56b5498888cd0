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

    public PacketPool(int size, int packetCapacity = Packet.DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        _packetCapacity = packetCapacity;
        _free = new Stack<Packet>(size);
        for (int i = 0; i < size; i++)
        {
            _free.Push(new Packet(packetCapacity) { Pool = this });
        }

        Size = size;
    }

    /// <summary>The number of packets this pool was created with.</summary>
    public int Size { get; }

    public int Available => _free.Count;

    /// <summary>Times <see cref="TryRent"/> found the pool empty (the caller counts a drop).</summary>
    public long Exhausted { get; private set; }

    public bool TryRent(out Packet packet)
    {
        if (_free.TryPop(out var p))
        {
            packet = p;
            return true;
        }

        Exhausted++;
        packet = null!;
        return false;
    }

    public void Return(Packet packet)
    {
        if (_free.Count < Size)
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
