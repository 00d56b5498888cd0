namespace Datapath.Packets;

/// <summary>
/// Up to 32 packets moving together between stages and actors (the analogue of dp_packet_batch).
/// Handing a batch to another owner transfers the packets: the sender must not touch them again.
/// Not sealed so that a host can make its pooled batches the very messages that carry them between
/// threads (no envelope allocated per batch); it adds no behaviour.
/// </summary>
public class PacketBatch
{
    public const int MaxSize = 32;

    private readonly Packet[] _packets = new Packet[MaxSize];

    public int Count { get; private set; }

    public bool IsFull => Count == MaxSize;

    public Packet this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
            {
                ThrowIndex(index);
            }

            return _packets[index];
        }
    }

    /// <summary>The packets as a span of exactly <see cref="Count"/> items.</summary>
    public ReadOnlySpan<Packet> Packets => _packets.AsSpan(0, Count);

    public void Add(Packet packet)
    {
        if (Count == MaxSize)
        {
            throw new InvalidOperationException("A batch holds at most 32 packets.");
        }

        _packets[Count++] = packet;
    }

    /// <summary>Keeps the first <paramref name="count"/> packets (used after compaction).</summary>
    public void Truncate(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)count, (uint)Count);
        Array.Clear(_packets, count, Count - count);
        Count = count;
    }

    /// <summary>Replaces the packet at <paramref name="index"/> (used to compact misses to the front).</summary>
    public void Set(int index, Packet packet)
    {
        if ((uint)index >= (uint)Count)
        {
            ThrowIndex(index);
        }

        _packets[index] = packet;
    }

    public void Clear() => Truncate(0);

    private static void ThrowIndex(int index) =>
        throw new ArgumentOutOfRangeException(nameof(index), index, "Outside the batch.");
}
