using Datapath.Packets;

namespace Datapath.Conntrack.Fragments;

/// <summary>One fragment as parsed: its payload's place in the datagram and where it starts in the packet (relative to L3).</summary>
internal readonly record struct FragmentPiece(int Offset, int Length, bool More, int HeaderLength, int DatagramLength, int PayloadStart);

/// <summary>
/// The fragments of one datagram received so far (OVS struct ipf_list): arrival order for the
/// release, payload ranges for the overlap and completeness checks. Reused through a spare stack.
/// </summary>
internal sealed class PartialDatagram
{
    private readonly List<Packet> _packets = new(8);
    private readonly List<FragmentPiece> _pieces = new(8);
    private int _totalLength = -1;
    private int _covered;

    public FragmentKey Key { get; private set; }

    public long Expiration { get; private set; }

    /// <summary>False once completed, dropped or expired (a stale entry of the age queue).</summary>
    public bool IsLive { get; private set; }

    public int Count => _packets.Count;

    public long Bytes { get; private set; }

    public IReadOnlyList<Packet> Packets => _packets;

    public bool IsComplete => _totalLength >= 0 && _covered == _totalLength;

    /// <summary>The fragment at offset 0 (valid when complete).</summary>
    public Packet First => _packets[IndexOfOffsetZero()];

    /// <summary>Its L3 headers' length, fragment header included for IPv6.</summary>
    public int FirstHeaderLength => _pieces[IndexOfOffsetZero()].HeaderLength;

    /// <summary>The reassembled payload's length (valid when complete).</summary>
    public int DataLength => _totalLength;

    public void Reset(FragmentKey key, long expiration)
    {
        Key = key;
        Expiration = expiration;
        IsLive = true;
        _packets.Clear();
        _pieces.Clear();
        _totalLength = -1;
        _covered = 0;
        Bytes = 0;
    }

    public void Kill()
    {
        IsLive = false;
        _packets.Clear();
        _pieces.Clear();
        Bytes = 0;
    }

    /// <summary>Why <paramref name="piece"/> cannot join this datagram, or null.</summary>
    public ReassemblyCounter? Check(in FragmentPiece piece, int maxPayload, int maxFragments)
    {
        int end = piece.Offset + piece.Length;
        if (end > maxPayload)
        {
            return ReassemblyCounter.TooBig;
        }

        if (_packets.Count >= maxFragments)
        {
            return ReassemblyCounter.TooManyFragments;
        }

        // A second last fragment, data past the last one, or a last one before data already held.
        if (!piece.More && _totalLength >= 0 && _totalLength != end)
        {
            return ReassemblyCounter.Overlap;
        }

        if (_totalLength >= 0 && end > _totalLength)
        {
            return ReassemblyCounter.Overlap;
        }

        foreach (var held in _pieces)
        {
            if (piece.Offset < held.Offset + held.Length && held.Offset < end)
            {
                return ReassemblyCounter.Overlap;
            }

            if (!piece.More && held.Offset + held.Length > end)
            {
                return ReassemblyCounter.Overlap;
            }
        }

        return null;
    }

    public void Add(Packet packet, in FragmentPiece piece)
    {
        _packets.Add(packet);
        _pieces.Add(piece);
        _covered += piece.Length;
        Bytes += packet.Length;
        if (!piece.More)
        {
            _totalLength = piece.Offset + piece.Length;
        }
    }

    /// <summary>Copies every payload to its offset in <paramref name="destination"/>.</summary>
    public void CopyPayloads(Span<byte> destination)
    {
        for (int i = 0; i < _packets.Count; i++)
        {
            var piece = _pieces[i];
            var packet = _packets[i];
            packet.Data.Slice(packet.L3Offset + piece.PayloadStart, piece.Length).CopyTo(destination[piece.Offset..]);
        }
    }

    private int IndexOfOffsetZero()
    {
        for (int i = 0; i < _pieces.Count; i++)
        {
            if (_pieces[i].Offset == 0)
            {
                return i;
            }
        }

        throw new InvalidOperationException("No first fragment.");
    }
}
