using System.Globalization;
using Datapath.Packets;

namespace Datapath.Conntrack;

/// <summary>
/// A partial conntrack tuple of a flush filter (OVS struct ofp_ct_tuple): every field left 0 (or
/// null) matches anything. For ICMP, <see cref="SrcPort"/> is the echo id and
/// <see cref="IcmpType"/> the type.
/// </summary>
public sealed record ConntrackTuplePattern
{
    public UInt128? Src { get; init; }

    public UInt128? Dst { get; init; }

    public ushort SrcPort { get; init; }

    public ushort DstPort { get; init; }

    public byte? IcmpType { get; init; }

    public byte? IcmpCode { get; init; }

    /// <summary>Both addresses, and for non-ICMP both ports: the tuple names one connection (ofp_ct_tuple_is_five_tuple).</summary>
    public bool IsFiveTuple(byte protocol) =>
        Src is not null && Dst is not null && (IsIcmp(protocol) || (SrcPort != 0 && DstPort != 0));

    internal bool Matches(in ConntrackKey key, byte protocol)
    {
        if ((Src is { } s && s != key.Src) || (Dst is { } d && d != key.Dst))
        {
            return false;
        }

        if (IsIcmp(protocol) || key.IsIcmp)
        {
            return (SrcPort == 0 || SrcPort == key.SrcPort)
                && (IcmpType is not { } t || t == key.SrcIcmpType)
                && (IcmpCode is not { } c || c == 0);
        }

        return (SrcPort == 0 || SrcPort == key.SrcPort) && (DstPort == 0 || DstPort == key.DstPort);
    }

    private static bool IsIcmp(byte protocol) => protocol is 1 or 58;
}

/// <summary>
/// Which connections <c>dpctl/flush-conntrack</c> removes (OVS 3.x: zone, mark, labels, an
/// original and a reply tuple; struct ofp_ct_match and conntrack_flush_with_match). A tuple that
/// names a whole connection finds it as a lookup does, by either of its tuples; a partial one is
/// compared field by field with the connection's original (or reply) tuple. A whole tuple without
/// a zone means zone 0, as in Open vSwitch; otherwise no zone means every zone. Immutable.
/// </summary>
public sealed record ConntrackFlushFilter
{
    public static ConntrackFlushFilter All { get; } = new();

    public ushort? Zone { get; init; }

    public uint Mark { get; init; }

    public uint MarkMask { get; init; }

    public UInt128 Labels { get; init; }

    public UInt128 LabelsMask { get; init; }

    /// <summary>ct_nw_proto, 0 for any.</summary>
    public byte Protocol { get; init; }

    /// <summary>null for either family.</summary>
    public bool? IsIpv6 { get; init; }

    public ConntrackTuplePattern? Original { get; init; }

    public ConntrackTuplePattern? Reply { get; init; }

    /// <summary>True when the filter selects the connection with these tuples, mark and label.</summary>
    public bool Matches(in ConntrackKey original, in ConntrackKey reply, uint mark, UInt128 label)
    {
        bool wholeTuple = (Original?.IsFiveTuple(Protocol) ?? false) || (Reply?.IsFiveTuple(Protocol) ?? false);
        ushort? zone = Zone ?? (wholeTuple ? (ushort)0 : null);
        if ((zone is { } z && original.Zone != z)
            || (Protocol != 0 && original.Protocol != Protocol)
            || (IsIpv6 is { } v6 && original.IsIpv6 != v6)
            || (mark & MarkMask) != (Mark & MarkMask)
            || (label & LabelsMask) != (Labels & LabelsMask))
        {
            return false;
        }

        return TupleMatches(Original, in original, in reply) && TupleMatches(Reply, in reply, in original);
    }

    private bool TupleMatches(ConntrackTuplePattern? pattern, in ConntrackKey own, in ConntrackKey other)
    {
        if (pattern is null)
        {
            return true;
        }

        if (pattern.IsFiveTuple(Protocol))
        {
            return pattern.Matches(in own, Protocol) || pattern.Matches(in other, Protocol);
        }

        return pattern.Matches(in own, Protocol);
    }

    /// <summary>
    /// Parses flush-conntrack's arguments after the datapath name: <c>zone=N</c>, <c>mark=X[/M]</c>,
    /// <c>labels=X[/M]</c>, then up to two tuples (original, reply) such as
    /// <c>ct_nw_src=10.0.0.1,ct_nw_dst=10.0.0.2,ct_nw_proto=6,ct_tp_src=1,ct_tp_dst=2</c>
    /// (ct_ipv6_src/ct_ipv6_dst for IPv6; icmp_id, icmp_type, icmp_code for ICMP).
    /// </summary>
    /// <exception cref="FormatException">With Open vSwitch's wording of what is wrong.</exception>
    public static ConntrackFlushFilter Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var filter = new ConntrackFlushFilter();
        int tuples = 0;
        byte protocol = 0;
        bool? ipv6 = null;
        foreach (string arg in args)
        {
            if (arg.StartsWith("zone=", StringComparison.Ordinal))
            {
                if (!ushort.TryParse(arg.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out ushort zone))
                {
                    throw new FormatException($"failed to parse zone: {arg[5..]}");
                }

                filter = filter with { Zone = zone };
            }
            else if (arg.StartsWith("mark=", StringComparison.Ordinal))
            {
                var (value, mask) = ParseMasked(arg[5..], "mark", 32);
                filter = filter with { Mark = (uint)value, MarkMask = (uint)mask };
            }
            else if (arg.StartsWith("labels=", StringComparison.Ordinal))
            {
                var (value, mask) = ParseMasked(arg[7..], "labels", 128);
                filter = filter with { Labels = value, LabelsMask = mask };
            }
            else if (tuples < 2)
            {
                var tuple = ParseTuple(arg, ref protocol, ref ipv6);
                filter = tuples++ == 0 ? filter with { Original = tuple } : filter with { Reply = tuple };
            }
            else
            {
                throw new FormatException("invalid arguments");
            }
        }

        return filter with { Protocol = protocol, IsIpv6 = ipv6 };
    }

    private static (UInt128 Value, UInt128 Mask) ParseMasked(string text, string what, int bits)
    {
        UInt128 all = bits == 128 ? UInt128.MaxValue : (UInt128.One << bits) - 1;
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (!TryParseNumber(slash < 0 ? text : text[..slash], out UInt128 value) || value > all)
        {
            throw new FormatException($"failed to parse {what}: {text}");
        }

        UInt128 mask = all;
        if (slash >= 0 && (!TryParseNumber(text[(slash + 1)..], out mask) || mask > all))
        {
            throw new FormatException($"failed to parse {what}: {text}");
        }

        return (value & mask, mask);
    }

    private static bool TryParseNumber(string text, out UInt128 value) =>
        text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? UInt128.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : UInt128.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary>ofp_ct_tuple_parse: comma-separated key=value pairs; the empty string matches anything.</summary>
    private static ConntrackTuplePattern ParseTuple(string text, ref byte protocol, ref bool? ipv6)
    {
        var tuple = new ConntrackTuplePattern();
        foreach (string pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            string key = eq < 0 ? pair : pair[..eq];
            string value = eq < 0 ? string.Empty : pair[(eq + 1)..];
            if (value.Length == 0)
            {
                throw new FormatException($"field {key} missing value");
            }

            switch (key)
            {
                case "ct_nw_src":
                case "ct_nw_dst":
                case "ct_ipv6_src":
                case "ct_ipv6_dst":
                    bool wantV6 = key.StartsWith("ct_ipv6", StringComparison.Ordinal);
                    if (ipv6 is { } family && family != wantV6)
                    {
                        throw new FormatException($"the L3 protocol does not match {value}");
                    }

                    if (!TryParseAddress(value, wantV6, out UInt128 number))
                    {
                        throw new FormatException($"failed to parse field {key}");
                    }

                    ipv6 = wantV6;
                    bool source = key.EndsWith("_src", StringComparison.Ordinal);
                    if ((source ? tuple.Src : tuple.Dst) is not null)
                    {
                        throw new FormatException($"{key} is set multiple times");
                    }

                    tuple = source ? tuple with { Src = number } : tuple with { Dst = number };
                    break;
                case "ct_nw_proto":
                    protocol = ParseByte(value, key);
                    break;
                case "ct_tp_src":
                    tuple = tuple with { SrcPort = ParseUInt16(value, key) };
                    break;
                case "ct_tp_dst":
                    tuple = tuple with { DstPort = ParseUInt16(value, key) };
                    break;
                case "icmp_type":
                case "icmp_code":
                case "icmp_id":
                    if (protocol is not (1 or 58))
                    {
                        throw new FormatException("invalid L4 fields");
                    }

                    tuple = key switch
                    {
                        "icmp_type" => tuple with { IcmpType = ParseByte(value, key) },
                        "icmp_code" => tuple with { IcmpCode = ParseByte(value, key) },
                        _ => tuple with { SrcPort = ParseUInt16(value, key), DstPort = ParseUInt16(value, key) },
                    };
                    break;
                default:
                    throw new FormatException($"invalid conntrack tuple field: {key}");
            }
        }

        if (protocol == 0 && (tuple.SrcPort != 0 || tuple.DstPort != 0))
        {
            throw new FormatException("port is set without protocol");
        }

        return tuple;
    }

    /// <summary>The strict spelling of <see cref="AddressText"/>: a loose one would flush the connections of an address nobody typed.</summary>
    private static bool TryParseAddress(string text, bool v6, out UInt128 number)
    {
        if (v6)
        {
            return AddressText.TryParseIpv6(text, out number);
        }

        bool ok = AddressText.TryParseIpv4(text, out uint ipv4);
        number = ipv4;
        return ok;
    }

    private static byte ParseByte(string text, string key) =>
        byte.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out byte b) ? b : throw new FormatException($"failed to parse field {key}");

    private static ushort ParseUInt16(string text, string key) =>
        ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ushort v) ? v : throw new FormatException($"failed to parse field {key}");
}
