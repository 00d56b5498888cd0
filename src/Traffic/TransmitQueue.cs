namespace Traffic;

/// <summary>One frame a host will send: which connection (slot and generation) and what.</summary>
internal readonly record struct QueuedSegment(int Slot, int Generation, SegmentKind Kind);

/// <summary>A host's transmit queue: a fixed-capacity FIFO ring of segments to send, in order.</summary>
internal sealed class TransmitQueue
{
    private readonly QueuedSegment[] _ring;
    private int _head;

    public TransmitQueue(int capacity) => _ring = new QueuedSegment[capacity];

    public int Count { get; private set; }

    /// <returns>False when full (the caller counts it).</returns>
    public bool TryEnqueue(QueuedSegment segment)
    {
        if (Count == _ring.Length)
        {
            return false;
        }

        int tail = _head + Count;
        if (tail >= _ring.Length)
        {
            tail -= _ring.Length;
        }

        _ring[tail] = segment;
        Count++;
        return true;
    }

    public QueuedSegment Peek() => _ring[_head];

    public void Dequeue()
    {
        if (++_head == _ring.Length)
        {
            _head = 0;
        }

        Count--;
    }
}
