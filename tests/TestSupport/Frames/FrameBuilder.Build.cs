using System.Buffers.Binary;
using System.Numerics;

namespace TestSupport.Frames;

/// <summary>Writing the described frame: transport first (its checksum needs the addresses), then the network layer, then Ethernet.</summary>
public sealed partial class FrameBuilder
{
    private const int Ipv4HeaderLength = 20;
    private const int Ipv6HeaderLength = 40;
    private const byte FragmentHeaderType = 44;
    private const byte NoNextHeader = 59;

    /// <summary>The frame's bytes. The builder can be changed and built again.</summary>
    public byte[] Build()
    {
        byte[] network = _network switch
        {
            NetworkKind.Arp => [.. _arp, .. _payload],
            NetworkKind.Ipv4 => Ipv4Datagram(Segment(), _fragmentOffset == Unset ? 0 : _fragmentOffset, _moreFragments, _ipv4Options),
            NetworkKind.Ipv6 => Ipv6Datagram(Segment(), _fragmentOffset == Unset ? null : (_fragmentOffset, _moreFragments)),
            _ => _payload,
        };
        return Ethernet(network);
    }

    /// <summary>
    /// The datagram cut into fragments of <paramref name="size"/> data bytes each (a multiple of 8;
    /// the last one shorter), as a sender that fragments does: IPv4 fragments share the
    /// identification (<see cref="Id"/>) and carry the options whose copy bit is set after the first;
    /// IPv6 fragments keep the extension headers given (the unfragmentable part) and add a fragment
    /// header with the identification.
    /// </summary>
    public List<byte[]> BuildFragments(int size)
    {
        if (_network is not (NetworkKind.Ipv4 or NetworkKind.Ipv6) || _fragmentOffset != Unset)
        {
            throw new InvalidOperationException("BuildFragments needs an unfragmented IPv4 or IPv6 datagram.");
        }

        if (size <= 0 || size % 8 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "fragment data is a positive multiple of 8 bytes");
        }

        byte[] segment = Segment();
        var fragments = new List<byte[]>();
        for (int offset = 0; offset == 0 || offset < segment.Length; offset += size)
        {
            int length = Math.Min(size, segment.Length - offset);
            byte[] data = segment.AsSpan(offset, length).ToArray();
            bool more = offset + length < segment.Length;
            byte[] network = _network == NetworkKind.Ipv4
                ? Ipv4Datagram(data, offset, more, offset == 0 ? _ipv4Options : CopiedOptions(_ipv4Options))
                : Ipv6Datagram(data, (offset, more));
            fragments.Add(Ethernet(network));
        }

        return fragments;
    }

    private byte[] Ethernet(byte[] network)
    {
        int type = _etherType != Unset ? _etherType : _network switch
        {
            NetworkKind.Arp => 0x0806,
            NetworkKind.Ipv4 => 0x0800,
            NetworkKind.Ipv6 => 0x86DD,
            _ => throw new InvalidOperationException("A frame without a network layer needs an EtherType."),
        };

        int header = 14 + (4 * _tags.Count);
        var frame = new byte[Math.Max(header + network.Length, _padTo)];
        _ethDestination.CopyTo(frame, 0);
        _ethSource.CopyTo(frame, 6);
        int offset = 12;
        foreach (var (tpid, tci) in _tags)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset), tpid);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset + 2), tci);
            offset += 4;
        }

        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset), (ushort)type);
        network.CopyTo(frame, header);
        return frame;
    }

    private byte[] Ipv4Datagram(byte[] data, int fragmentOffset, bool more, byte[] options)
    {
        int headerLength = Ipv4HeaderLength + options.Length;
        var datagram = new byte[headerLength + data.Length];
        Span<byte> ip = datagram;
        ip[0] = (byte)(0x40 | (headerLength / 4));
        ip[1] = _tos;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], checked((ushort)datagram.Length));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)_identification);
        int flags = (_dontFragment ? 0x4000 : 0) | (more ? 0x2000 : 0);
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], (ushort)(flags | (fragmentOffset / 8)));
        ip[8] = _ttl;
        ip[9] = Protocol;
        _ipSource.CopyTo(ip[12..]);
        _ipDestination.CopyTo(ip[16..]);
        options.CopyTo(ip[20..]);
        ushort checksum = _headerChecksum != Unset ? (ushort)_headerChecksum : InternetChecksum.Of(ip[..headerLength]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], checksum);
        data.CopyTo(ip[headerLength..]);
        return datagram;
    }

    private byte[] Ipv6Datagram(byte[] data, (int Offset, bool More)? fragment)
    {
        var chain = new List<(byte Type, byte[] Header)>(_extensions);
        if (fragment is { } f)
        {
            var header = new byte[8];
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)(f.Offset | (f.More ? 1 : 0)));
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), _identification);
            chain.Add((FragmentHeaderType, header));
        }

        int extensions = chain.Sum(e => e.Header.Length);
        var datagram = new byte[Ipv6HeaderLength + extensions + data.Length];
        Span<byte> ip = datagram;
        BinaryPrimitives.WriteUInt32BigEndian(ip, (6u << 28) | ((uint)_tos << 20) | (uint)_flowLabel);
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], checked((ushort)(extensions + data.Length)));
        ip[6] = chain.Count > 0 ? chain[0].Type : Protocol;
        ip[7] = _ttl;
        _ipSource.CopyTo(ip[8..]);
        _ipDestination.CopyTo(ip[24..]);
        int offset = Ipv6HeaderLength;
        for (int i = 0; i < chain.Count; i++)
        {
            chain[i].Header.CopyTo(ip[offset..]);
            ip[offset] = i + 1 < chain.Count ? chain[i + 1].Type : Protocol;
            offset += chain[i].Header.Length;
        }

        data.CopyTo(ip[offset..]);
        return datagram;
    }

    /// <summary>The protocol number the network layer announces: the transport's, or "no next header".</summary>
    private byte Protocol => _transport == TransportKind.None ? NoNextHeader : _protocol;

    /// <summary>The transport header and payload, its checksum filled in.</summary>
    private byte[] Segment()
    {
        switch (_transport)
        {
            case TransportKind.Tcp:
            {
                int headerLength = 20 + _tcpOptions.Length;
                var segment = new byte[headerLength + _payload.Length];
                Span<byte> tcp = segment;
                BinaryPrimitives.WriteUInt16BigEndian(tcp, _sourcePort);
                BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], _destinationPort);
                BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], _seq);
                BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], _ack);
                BinaryPrimitives.WriteUInt16BigEndian(tcp[12..], (ushort)(((headerLength / 4) << 12) | (_tcpFlags & 0xFFF)));
                BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], _window);
                BinaryPrimitives.WriteUInt16BigEndian(tcp[18..], _urgent);
                _tcpOptions.CopyTo(tcp[20..]);
                _payload.CopyTo(tcp[headerLength..]);
                WriteChecksum(segment, 16, withPseudoHeader: true);
                return segment;
            }

            case TransportKind.Udp:
            {
                var segment = new byte[8 + _payload.Length];
                Span<byte> udp = segment;
                BinaryPrimitives.WriteUInt16BigEndian(udp, _sourcePort);
                BinaryPrimitives.WriteUInt16BigEndian(udp[2..], _destinationPort);
                BinaryPrimitives.WriteUInt16BigEndian(udp[4..], checked((ushort)segment.Length));
                _payload.CopyTo(udp[8..]);
                WriteChecksum(segment, 6, withPseudoHeader: true);
                return segment;
            }

            case TransportKind.Icmp:
            {
                var segment = new byte[8 + _payload.Length];
                segment[0] = _icmpType;
                segment[1] = _icmpCode;
                BinaryPrimitives.WriteUInt32BigEndian(segment.AsSpan(4), _icmpRest);
                _payload.CopyTo(segment, 8);

                // ICMPv6 covers a pseudo-header (RFC 4443 2.3), ICMPv4 the message alone (RFC 792).
                WriteChecksum(segment, 2, withPseudoHeader: _network == NetworkKind.Ipv6);
                return segment;
            }

            case TransportKind.Sctp:
            {
                var segment = new byte[12 + _payload.Length];
                BinaryPrimitives.WriteUInt16BigEndian(segment, _sourcePort);
                BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), _destinationPort);
                BinaryPrimitives.WriteUInt32BigEndian(segment.AsSpan(4), _verificationTag);
                _payload.CopyTo(segment, 12);

                // RFC 9260 appendix A: CRC-32C over the packet with a zero checksum field, sent least significant byte first.
                uint crc = _checksum != Unset ? (uint)_checksum : Crc32C(segment);
                BinaryPrimitives.WriteUInt32LittleEndian(segment.AsSpan(8), crc);
                return segment;
            }

            case TransportKind.Raw:
                return [.. _transportBytes, .. _payload];

            default:
                return _payload;
        }
    }

    private void WriteChecksum(byte[] segment, int offset, bool withPseudoHeader)
    {
        ushort checksum;
        if (_checksum != Unset)
        {
            checksum = (ushort)_checksum;
        }
        else
        {
            ulong pseudo = withPseudoHeader
                ? InternetChecksum.PseudoHeader(_ipSource, _pseudoDestination ?? _ipDestination, _protocol, segment.Length)
                : 0;
            checksum = InternetChecksum.Finish(InternetChecksum.Add(segment, pseudo));

            // A computed UDP checksum of zero is sent as all ones (RFC 768): zero means "none".
            if (_transport == TransportKind.Udp && checksum == 0)
            {
                checksum = 0xFFFF;
            }
        }

        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(offset), checksum);
    }

    private static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = uint.MaxValue;
        foreach (byte b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }

    /// <summary>The options a later IPv4 fragment carries: those with the copied flag (RFC 791), padded to a multiple of 4.</summary>
    private static byte[] CopiedOptions(byte[] options)
    {
        var copied = new List<byte>();
        for (int i = 0; i < options.Length;)
        {
            byte type = options[i];
            if (type == 0)
            {
                break;
            }

            int length = type == 1 ? 1 : Math.Max(2, (int)options[Math.Min(i + 1, options.Length - 1)]);
            if ((type & 0x80) != 0)
            {
                copied.AddRange(options.AsSpan(i, Math.Min(length, options.Length - i)).ToArray());
            }

            i += length;
        }

        while (copied.Count % 4 != 0)
        {
            copied.Add(0);
        }

        return [.. copied];
    }
}
