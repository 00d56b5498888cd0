namespace Datapath.Packets;

/// <summary>
/// One frame in a reusable buffer, with headroom for pushed headers (the analogue of dp_packet).
/// Layer offsets are set by flow extraction and kept up to date by actions that move headers;
/// they are relative to the first byte of the frame, -1 when the layer is absent.
/// A packet belongs to exactly one owner at a time; batches hand it over between stages.
/// </summary>
public sealed class Packet
{
    public const int DefaultHeadroom = 64;
    public const int DefaultCapacity = 2048;

    private byte[] _buffer;
    private int _start;
    private int _length;

    public PacketMetadata Metadata;

    /// <summary>The pool this packet returns to when its last owner is done with it.</summary>
    public IPacketPool? Pool { get; init; }

    /// <summary>Offset of the L3 header (after VLAN tags), or -1.</summary>
    public int L3Offset = -1;

    /// <summary>Offset of the L4 header, or -1 (also -1 for IP fragments after the first).</summary>
    public int L4Offset = -1;

    /// <summary>
    /// The ethertype (after VLAN tags) and nw_frag bits of the last flow extraction, with the
    /// offsets above: what conntrack and reassembly read, so a ct action needs no second extraction.
    /// </summary>
    public ushort EthType;

    public byte NwFrag;

    /// <summary>
    /// What one pipeline pass leaves for the packet's next pass, opaque to packets: the
    /// recirculation bypass keeps the first pass's flow here, to build a bypass flow from both
    /// passes. Whoever sets it sets it on every first pass (null when there is nothing to keep), so a
    /// recycled packet never carries a stale one into a second pass. An object, not a typed
    /// reference, so that packets depend on no layer above them.
    /// </summary>
    internal object? PassNote;

    /// <summary>
    /// When this packet entered its current pipeline pass (the PMD's counter): conntrack requests
    /// keep their inputs in this order, whichever flows of the pass they came through, so a
    /// connection's packets reach conntrack in arrival order with the bypass on or off.
    /// </summary>
    internal long PassSequence;

    /// <summary>The TCP flags of the current pass's flow key, kept for statistics credited later in the pass (a bypass flow's guard).</summary>
    internal ushort PassTcpFlags;

    /// <summary>
    /// Whether an output (or the userspace action) has sent this packet since it was received: when
    /// its action list ends without a last output, it was sent if this is set, else dropped (Open
    /// vSwitch's drop_action_of_pipeline). Cleared by <see cref="SetFrame"/>.
    /// </summary>
    internal bool Transmitted;

    public Packet(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, DefaultHeadroom + 64);
        _buffer = new byte[capacity];
        _start = DefaultHeadroom;
    }

    public int Length => _length;

    /// <summary>The largest frame this packet can hold without growing.</summary>
    public int TailCapacity => _buffer.Length - DefaultHeadroom;

    public Span<byte> Data => _buffer.AsSpan(_start, _length);

    /// <summary>Copies a frame in and resets metadata and offsets. Grows the buffer (cold) for jumbo frames.</summary>
    public void SetFrame(ReadOnlySpan<byte> frame, uint inPort)
    {
        if (frame.Length > _buffer.Length - DefaultHeadroom)
        {
            Grow(frame.Length);
        }

        _start = DefaultHeadroom;
        _length = frame.Length;
        frame.CopyTo(_buffer.AsSpan(_start));
        Metadata.Reset(inPort);
        Transmitted = false;
        L3Offset = -1;
        L4Offset = -1;
        EthType = 0;
        NwFrag = 0;
    }

    /// <summary>Opens <paramref name="count"/> bytes at <paramref name="offset"/>, moving the bytes before it into the headroom.</summary>
    /// <returns>False when the headroom is exhausted.</returns>
    public bool InsertAt(int offset, int count)
    {
        if ((uint)offset > (uint)_length || count > _start)
        {
            return false;
        }

        _buffer.AsSpan(_start, offset).CopyTo(_buffer.AsSpan(_start - count));
        _start -= count;
        _length += count;
        ShiftOffsets(offset, count);
        return true;
    }

    /// <summary>Removes <paramref name="count"/> bytes at <paramref name="offset"/>, moving the bytes before it forward.</summary>
    public bool RemoveAt(int offset, int count)
    {
        if (offset < 0 || count < 0 || offset + count > _length)
        {
            return false;
        }

        _buffer.AsSpan(_start, offset).CopyTo(_buffer.AsSpan(_start + count));
        _start += count;
        _length -= count;
        ShiftOffsets(offset, -count);
        return true;
    }

    private void ShiftOffsets(int at, int delta)
    {
        if (L3Offset >= at)
        {
            L3Offset += delta;
        }

        if (L4Offset >= at)
        {
            L4Offset += delta;
        }
    }

    private void Grow(int frameLength)
    {
        _buffer = new byte[frameLength + DefaultHeadroom];
    }
}
