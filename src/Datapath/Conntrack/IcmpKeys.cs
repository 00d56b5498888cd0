using System.Buffers.Binary;

namespace Datapath.Conntrack;

/// <summary>
/// ICMP and ICMPv6 keying (OVS extract_l4_icmp / extract_l4_icmp6): echo-style messages are keyed
/// by id and type; errors (destination unreachable, time exceeded, parameter problem, source quench,
/// redirect; ICMPv6 also packet too big) are keyed by the reverse of the datagram they quote, whose
/// source must be the error's destination. Everything else is not tracked.
/// </summary>
internal static class IcmpKeys
{
    private const int IcmpHeaderLength = 8;
    private const int Ipv4HeaderMin = 20;
    private const int Ipv6HeaderLength = 40;

    public static ConntrackCounter ParseIcmpv4(ReadOnlySpan<byte> icmp, ref ConntrackInput input)
    {
        if (icmp.Length < IcmpHeaderLength)
        {
            return ConntrackCounter.TruncatedL4;
        }

        input.PayloadLength = (uint)(icmp.Length - IcmpHeaderLength);
        switch (icmp[0])
        {
            case 3: // destination unreachable
            case 4: // source quench
            case 5: // redirect
            case 11: // time exceeded
            case 12: // parameter problem
                return ParseIpv4Error(icmp[IcmpHeaderLength..], ref input);
            default:
                return TryKeyEcho(icmp, isIpv6: false, ref input.Key) ? ConntrackCounter.None : ConntrackCounter.UnsupportedIcmp;
        }
    }

    public static ConntrackCounter ParseIcmpv6(ReadOnlySpan<byte> icmp, ref ConntrackInput input)
    {
        // Every message OVS supports carries at least 4 bytes after the 4-byte header.
        if (icmp.Length < IcmpHeaderLength)
        {
            return ConntrackCounter.TruncatedL4;
        }

        input.PayloadLength = (uint)(icmp.Length - IcmpHeaderLength);
        switch (icmp[0])
        {
            case 1: // destination unreachable
            case 2: // packet too big
            case 3: // time exceeded
            case 4: // parameter problem
                return ParseIpv6Error(icmp[IcmpHeaderLength..], ref input);
            default:
                return TryKeyEcho(icmp, isIpv6: true, ref input.Key) ? ConntrackCounter.None : ConntrackCounter.UnsupportedIcmp;
        }
    }

    /// <summary>Keys an echo / timestamp / information request or reply (code 0 only).</summary>
    public static bool TryKeyEcho(ReadOnlySpan<byte> icmp, bool isIpv6, ref ConntrackKey key)
    {
        byte type = icmp[0];
        if (icmp[1] != 0)
        {
            return false;
        }

        int answer = isIpv6 ? ReverseIcmpv6Type(type) : ReverseIcmpv4Type(type);
        if (answer < 0)
        {
            return false;
        }

        ushort id = BinaryPrimitives.ReadUInt16BigEndian(icmp[4..]);
        key.SrcPort = id;
        key.DstPort = id;
        key.SrcIcmpType = type;
        key.DstIcmpType = (byte)answer;
        return true;
    }

    /// <summary>The request types that may open an ICMP connection (OVS icmp4_valid_new / icmp6_valid_new).</summary>
    public static bool IsRequest(in ConntrackKey key) => key.IsIpv6
        ? key.SrcIcmpType == 128
        : key.SrcIcmpType is 8 or 13 or 15;

    private static int ReverseIcmpv4Type(byte type) => type switch
    {
        8 => 0,
        0 => 8,
        13 => 14,
        14 => 13,
        15 => 16,
        16 => 15,
        _ => -1,
    };

    private static int ReverseIcmpv6Type(byte type) => type switch
    {
        128 => 129,
        129 => 128,
        _ => -1,
    };

    private static ConntrackCounter ParseIpv4Error(ReadOnlySpan<byte> quoted, ref ConntrackInput input)
    {
        if (quoted.Length < Ipv4HeaderMin)
        {
            return ConntrackCounter.BadIcmpError;
        }

        int headerLength = (quoted[0] & 0x0F) * 4;
        if (headerLength < Ipv4HeaderMin || headerLength > quoted.Length || ConntrackInputParser.IsIpv4Fragment(quoted))
        {
            return ConntrackCounter.BadIcmpError;
        }

        // The quoted header's checksum is not checked (OVS passes validate_checksum = false).
        ref var outer = ref input.Key;
        uint src = BinaryPrimitives.ReadUInt32BigEndian(quoted[12..]);
        if (src != (uint)outer.Dst)
        {
            return ConntrackCounter.BadIcmpError;
        }

        var inner = default(ConntrackKey);
        inner.Zone = outer.Zone;
        inner.Src = src;
        inner.Dst = BinaryPrimitives.ReadUInt32BigEndian(quoted[16..]);
        inner.Protocol = quoted[9];
        var reason = ConntrackInputParser.ParseQuotedL4(quoted[headerLength..], ConntrackInputParser.IcmpErrorQuotedL4, ref inner);
        return reason == ConntrackCounter.None ? Relate(ref input, in inner) : reason;
    }

    private static ConntrackCounter ParseIpv6Error(ReadOnlySpan<byte> quoted, ref ConntrackInput input)
    {
        if (quoted.Length < Ipv6HeaderLength)
        {
            return ConntrackCounter.BadIcmpError;
        }

        // The quoted datagram is usually cut short: walk its extension headers over what is present.
        byte proto = quoted[6];
        if (Ipv6Extensions.Walk(quoted[Ipv6HeaderLength..], ref proto, out int extLength) != ConntrackCounter.None)
        {
            return ConntrackCounter.BadIcmpError;
        }

        ref var outer = ref input.Key;
        UInt128 src = BinaryPrimitives.ReadUInt128BigEndian(quoted[8..]);
        if (src != outer.Dst)
        {
            return ConntrackCounter.BadIcmpError;
        }

        var inner = default(ConntrackKey);
        inner.Zone = outer.Zone;
        inner.IsIpv6 = true;
        inner.Src = src;
        inner.Dst = BinaryPrimitives.ReadUInt128BigEndian(quoted[24..]);
        inner.Protocol = proto;
        var reason = ConntrackInputParser.ParseQuotedL4(quoted[(Ipv6HeaderLength + extLength)..], ConntrackInputParser.TcpHeaderMinimum, ref inner);
        return reason == ConntrackCounter.None ? Relate(ref input, in inner) : reason;
    }

    /// <summary>The error travels against the quoted datagram: its key is the quoted tuple reversed.</summary>
    private static ConntrackCounter Relate(ref ConntrackInput input, in ConntrackKey quoted)
    {
        input.Key = quoted.Reverse();
        input.IcmpRelated = true;
        input.PayloadLength = 0;
        return ConntrackCounter.None;
    }

}
