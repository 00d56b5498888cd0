using System.Buffers.Binary;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Conntrack.Fragments;

/// <summary>
/// IPv4 and IPv6 fragment reassembly in front of conntrack (the analogue of Open vSwitch's
/// lib/ipf.c), run on the PMD side: fragments are held until their datagram is complete (RFC 791,
/// RFC 8200 section 4.5), conntrack sees the whole datagram, and the original fragments are then
/// released in arrival order carrying the datagram's connection state, so the datapath forwards
/// what it received, unchanged.
///
/// Overlapping fragments kill their whole datagram (RFC 5722; RFC 1858's overlap attacks for
/// IPv4). Limits on held fragments, held bytes and fragments per datagram, a minimum size for
/// non-last fragments and a timeout bound the memory an attacker can pin; every refusal is counted.
/// One owner, not thread-safe; time is the caller's.
/// </summary>
public sealed class IpReassembler
{
    private const int Ipv4HeaderMin = 20;
    private const int Ipv6HeaderLength = 40;
    private const int FragmentHeaderLength = 8;
    private const int MaxIpv4Datagram = 65_535;
    private const int MaxIpv6Payload = 65_535;
    private const ushort Ipv4MoreFragments = 0x2000;
    private const ushort Ipv4OffsetMask = 0x1FFF;

    private readonly ReassemblyOptions _options;
    private readonly Dictionary<FragmentKey, PartialDatagram> _partials = [];
    private readonly Queue<PartialDatagram> _byAge = new();
    private readonly Stack<PartialDatagram> _spare = new();
    private readonly byte[] _scratch = new byte[MaxIpv4Datagram + 256];
    private readonly ReassembledDatagram _completed = new(new Packet(MaxIpv4Datagram + 256 + Packet.DefaultHeadroom));
    private bool _completedInUse;

    public IpReassembler(ReassemblyOptions? options = null)
    {
        _options = options ?? new ReassemblyOptions();
    }

    public ReassemblyStats Stats { get; } = new();

    /// <summary>Fragments held now.</summary>
    public int HeldFragments { get; private set; }

    /// <summary>Bytes (frames) held now.</summary>
    public long HeldBytes { get; private set; }

    /// <summary>Datagrams waiting for fragments.</summary>
    public int PendingDatagrams => _partials.Count;

    /// <summary>
    /// Offers a flow-extracted packet for ct(zone). Fragments are taken (Held), completed
    /// (Completed: <paramref name="datagram"/> is set and must be <see cref="Release"/>d before the
    /// next offer) or refused (Dropped); anything else comes back as NotFragment.
    /// </summary>
    public FragmentVerdict Offer(Packet packet, in FlowKey key, ushort zone, long nowMs, out ReassembledDatagram? datagram) =>
        Offer(packet, key.EthType, key.NwFrag, zone, nowMs, out datagram);

    /// <summary>As <see cref="Offer(Packet, in FlowKey, ushort, long, out ReassembledDatagram?)"/>, with the ethertype and nw_frag of the packet's flow key.</summary>
    public FragmentVerdict Offer(Packet packet, ushort ethType, byte nwFrag, ushort zone, long nowMs, out ReassembledDatagram? datagram)
    {
        ArgumentNullException.ThrowIfNull(packet);
        datagram = null;
        bool ipv4 = ethType == EtherTypes.Ipv4;
        if (nwFrag == 0 || packet.L3Offset < 0 || !(ipv4 || ethType == EtherTypes.Ipv6))
        {
            return FragmentVerdict.NotFragment;
        }

        if (_completedInUse)
        {
            throw new InvalidOperationException("Release the completed datagram before offering more packets.");
        }

        ReadOnlySpan<byte> l3 = packet.Data[packet.L3Offset..];
        bool parsed = ipv4
            ? TryParseIpv4(l3, zone, out var fkey, out var piece)
            : TryParseIpv6(l3, zone, out fkey, out piece);
        if (!parsed)
        {
            return Drop(ReassemblyCounter.Malformed);
        }

        if (piece.More && piece.DatagramLength < (fkey.IsIpv6 ? _options.MinIpv6FragmentSize : _options.MinIpv4FragmentSize))
        {
            return Drop(ReassemblyCounter.TooSmall);
        }

        if (HeldFragments >= _options.MaxHeldFragments)
        {
            return Drop(ReassemblyCounter.HeldFragmentsLimit);
        }

        if (HeldBytes + packet.Length > _options.MaxHeldBytes)
        {
            return Drop(ReassemblyCounter.HeldBytesLimit);
        }

        if (!_partials.TryGetValue(fkey, out var partial))
        {
            partial = _spare.Count > 0 ? _spare.Pop() : new PartialDatagram();
            partial.Reset(fkey, nowMs + _options.TimeoutMs);
            _partials.Add(fkey, partial);
            _byAge.Enqueue(partial);
        }

        var refusal = partial.Check(in piece, fkey.IsIpv6 ? MaxIpv6Payload : MaxIpv4Datagram - piece.HeaderLength, _options.MaxFragmentsPerDatagram);
        if (refusal is not null)
        {
            // The whole datagram dies with an overlapping or impossible fragment.
            return DropDatagram(partial, refusal.Value);
        }

        partial.Add(packet, in piece);
        HeldFragments++;
        HeldBytes += packet.Length;
        Stats.Add(ReassemblyCounter.Accepted);
        if (!partial.IsComplete)
        {
            return FragmentVerdict.Held;
        }

        datagram = Reassemble(partial);
        return FragmentVerdict.Completed;
    }

    /// <summary>Hands a completed datagram's fragments back to the caller (after conntrack ran on it).</summary>
    public void Release(ReassembledDatagram datagram)
    {
        ArgumentNullException.ThrowIfNull(datagram);
        if (!ReferenceEquals(datagram, _completed) || !_completedInUse)
        {
            throw new InvalidOperationException("Not the pending completed datagram.");
        }

        Stats.Add(ReassemblyCounter.Released, datagram.FragmentList.Count);
        datagram.FragmentList.Clear();
        _completedInUse = false;
    }

    /// <summary>
    /// Drops datagrams whose time is up; their fragments are appended to <paramref name="dropped"/>
    /// for the caller to free (counted as Expired).
    /// </summary>
    public int Expire(long nowMs, List<Packet> dropped)
    {
        ArgumentNullException.ThrowIfNull(dropped);
        int count = 0;
        while (_byAge.Count > 0)
        {
            var oldest = _byAge.Peek();
            if (oldest.IsLive && nowMs < oldest.Expiration)
            {
                break;
            }

            _byAge.Dequeue();
            if (oldest.IsLive)
            {
                count += oldest.Count;
                Stats.Add(ReassemblyCounter.Expired, oldest.Count);
                Forget(oldest, dropped);
            }
            else
            {
                _spare.Push(oldest);
            }
        }

        return count;
    }

    /// <summary>Every held fragment, for shutdown: appended to <paramref name="dropped"/> and forgotten (not counted as drops).</summary>
    public void Clear(List<Packet> dropped)
    {
        ArgumentNullException.ThrowIfNull(dropped);
        foreach (var partial in _partials.Values)
        {
            dropped.AddRange(partial.Packets);
            HeldFragments -= partial.Count;
            HeldBytes -= partial.Bytes;
            partial.Kill();
        }

        _partials.Clear();
    }

    private FragmentVerdict Drop(ReassemblyCounter reason)
    {
        Stats.Add(reason);
        return FragmentVerdict.Dropped;
    }

    private FragmentVerdict DropDatagram(PartialDatagram partial, ReassemblyCounter reason)
    {
        // The new fragment and every held one of the datagram.
        Stats.Add(reason, partial.Count + 1);
        Forget(partial, DroppedWithDatagram);
        return FragmentVerdict.Dropped;
    }

    /// <summary>
    /// Held fragments dropped because a later fragment killed their datagram: the caller frees them
    /// (and clears the list) after an offer answered Dropped.
    /// </summary>
    public List<Packet> DroppedWithDatagram { get; } = [];

    private void Forget(PartialDatagram partial, List<Packet> into)
    {
        into.AddRange(partial.Packets);
        HeldFragments -= partial.Count;
        HeldBytes -= partial.Bytes;
        _partials.Remove(partial.Key);
        partial.Kill();
    }

    private ReassembledDatagram Reassemble(PartialDatagram partial)
    {
        var first = partial.First;
        ReadOnlySpan<byte> firstFrame = first.Data;
        int l3 = first.L3Offset;
        int headerEnd = l3 + partial.FirstHeaderLength;
        int length = headerEnd + partial.DataLength;
        Span<byte> frame = _scratch.AsSpan(0, length);
        firstFrame[..headerEnd].CopyTo(frame);
        partial.CopyPayloads(frame[headerEnd..]);

        Span<byte> ip = frame[l3..];
        if (partial.Key.IsIpv6)
        {
            // Keep the fragment header as an atomic fragment (offset 0, M clear), as OVS does.
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(length - l3 - Ipv6HeaderLength));
            BinaryPrimitives.WriteUInt16BigEndian(ip[(partial.FirstHeaderLength - FragmentHeaderLength + 2)..], 0);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(length - l3));
            ushort flags = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
            BinaryPrimitives.WriteUInt16BigEndian(ip[6..], (ushort)(flags & ~(Ipv4MoreFragments | Ipv4OffsetMask)));
            BinaryPrimitives.WriteUInt16BigEndian(ip[Checksum.Ipv4ChecksumOffset..], 0);
            BinaryPrimitives.WriteUInt16BigEndian(ip[Checksum.Ipv4ChecksumOffset..], Checksum.Ipv4Header(ip[..partial.FirstHeaderLength]));
        }

        var datagram = _completed;
        datagram.Datagram.SetFrame(frame, first.Metadata.InPort);
        datagram.Datagram.Metadata = first.Metadata;
        datagram.Datagram.L3Offset = l3;
        datagram.Datagram.L4Offset = headerEnd;
        datagram.FragmentList.AddRange(partial.Packets);
        HeldFragments -= partial.Count;
        HeldBytes -= partial.Bytes;
        _partials.Remove(partial.Key);
        partial.Kill();
        _completedInUse = true;
        Stats.Add(ReassemblyCounter.Reassembled);
        return datagram;
    }

    private static bool TryParseIpv4(ReadOnlySpan<byte> l3, ushort zone, out FragmentKey key, out FragmentPiece piece)
    {
        key = default;
        piece = default;
        if (l3.Length < Ipv4HeaderMin)
        {
            return false;
        }

        int headerLength = (l3[0] & 0x0F) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(l3[2..]);
        if (headerLength < Ipv4HeaderMin || totalLength <= headerLength || totalLength > l3.Length
            || !Checksum.IsIpv4HeaderValid(l3[..headerLength]))
        {
            return false;
        }

        ushort fragField = BinaryPrimitives.ReadUInt16BigEndian(l3[6..]);
        piece = new FragmentPiece(
            Offset: (fragField & Ipv4OffsetMask) * 8,
            Length: totalLength - headerLength,
            More: (fragField & Ipv4MoreFragments) != 0,
            HeaderLength: headerLength,
            DatagramLength: totalLength,
            PayloadStart: headerLength);
        if (piece.More && piece.Length % 8 != 0)
        {
            return false;
        }

        key = new FragmentKey(
            BinaryPrimitives.ReadUInt32BigEndian(l3[12..]),
            BinaryPrimitives.ReadUInt32BigEndian(l3[16..]),
            BinaryPrimitives.ReadUInt16BigEndian(l3[4..]),
            l3[9],
            IsIpv6: false,
            zone);
        return true;
    }

    private static bool TryParseIpv6(ReadOnlySpan<byte> l3, ushort zone, out FragmentKey key, out FragmentPiece piece)
    {
        key = default;
        piece = default;
        if (l3.Length < Ipv6HeaderLength)
        {
            return false;
        }

        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(l3[4..]);
        if (payloadLength > l3.Length - Ipv6HeaderLength)
        {
            return false;
        }

        // The unfragmentable part: every extension header up to the fragment header.
        ReadOnlySpan<byte> payload = l3.Slice(Ipv6HeaderLength, payloadLength);
        byte next = l3[6];
        int offset = 0;
        while (next != IpProtocols.Fragment)
        {
            if (next is not (IpProtocols.HopByHop or IpProtocols.Routing or IpProtocols.DestinationOptions)
                || payload.Length - offset < 8)
            {
                return false;
            }

            int length = (payload[offset + 1] + 1) * 8;
            if (payload.Length - offset < length)
            {
                return false;
            }

            next = payload[offset];
            offset += length;
        }

        if (payload.Length - offset < FragmentHeaderLength)
        {
            return false;
        }

        ReadOnlySpan<byte> fragment = payload[offset..];
        ushort offsetFlags = BinaryPrimitives.ReadUInt16BigEndian(fragment[2..]);
        int headerLength = Ipv6HeaderLength + offset + FragmentHeaderLength;
        piece = new FragmentPiece(
            Offset: offsetFlags & 0xFFF8,
            Length: Ipv6HeaderLength + payloadLength - headerLength,
            More: (offsetFlags & 1) != 0,
            HeaderLength: headerLength,
            DatagramLength: Ipv6HeaderLength + payloadLength,
            PayloadStart: headerLength);
        if (piece.Length <= 0 || (piece.More && piece.Length % 8 != 0))
        {
            return false;
        }

        key = new FragmentKey(
            BinaryPrimitives.ReadUInt128BigEndian(l3[8..]),
            BinaryPrimitives.ReadUInt128BigEndian(l3[24..]),
            BinaryPrimitives.ReadUInt32BigEndian(fragment[4..]),
            fragment[0],
            IsIpv6: true,
            zone);
        return true;
    }
}
