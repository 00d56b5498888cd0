using System.Globalization;
using Datapath.Flow;

namespace Datapath.OpenFlow.Syntax;

/// <summary>
/// Parses the ovs-ofctl add-flows text format (Open vSwitch's parse_ofp_str / ofp-flow.c):
/// one flow per line, '#' comments and blank lines ignored, fields separated by commas or spaces,
/// "actions=" taking the rest of the line. Statistics that dump-flows prints (duration, n_packets,
/// n_bytes, idle_age, hard_age) are accepted and ignored, so a dump can be fed back.
/// A file with any bad line yields every error and no flow. Cold path.
/// </summary>
public static partial class FlowParser
{
    /// <summary>Parses a whole flow file; all or nothing.</summary>
    /// <exception cref="FlowSyntaxException">Some line is bad; every bad line is reported.</exception>
    public static IReadOnlyList<FlowEntry> ParseFile(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        var entries = new List<FlowEntry>();
        var errors = new List<FlowSyntaxError>();
        int lineNumber = 0;
        foreach (var range in text.AsSpan().EnumerateLines())
        {
            lineNumber++;
            string line = range.ToString();
            if (IsBlankOrComment(line))
            {
                continue;
            }

            try
            {
                entries.Add(ParseLineCore(line));
            }
            catch (LineSyntaxException e)
            {
                errors.Add(new FlowSyntaxError(fileName, lineNumber, e.Offset + 1, e.Message));
            }
        }

        if (errors.Count > 0)
        {
            throw new FlowSyntaxException(errors);
        }

        return entries;
    }

    /// <summary>Parses one flow line.</summary>
    /// <exception cref="FlowSyntaxException">The line is bad.</exception>
    public static FlowEntry ParseLine(string line, string source = "<flow>")
    {
        ArgumentNullException.ThrowIfNull(line);
        try
        {
            return ParseLineCore(line);
        }
        catch (LineSyntaxException e)
        {
            throw new FlowSyntaxException([new FlowSyntaxError(source, 1, e.Offset + 1, e.Message)]);
        }
    }

    /// <summary>Parses a match alone (for trace): "in_port=1,tcp,nw_src=10.0.0.1,...".</summary>
    /// <exception cref="FlowSyntaxException">The text is bad.</exception>
    public static OfMatch ParseMatch(string text, string source = "<flow>")
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            var builder = new MatchBuilder();
            foreach (var token in Tokenize(text, 0, text.Length))
            {
                if (!builder.TryApply(token))
                {
                    throw UnknownField(token);
                }
            }

            return builder.Build();
        }
        catch (LineSyntaxException e)
        {
            throw new FlowSyntaxException([new FlowSyntaxError(source, 1, e.Offset + 1, e.Message)]);
        }
    }

    private static bool IsBlankOrComment(string line)
    {
        var t = line.AsSpan().TrimStart();
        return t.IsEmpty || t[0] == '#';
    }

    private static FlowEntry ParseLineCore(string line)
    {
        var head = ReadHead(line, definesFlow: true);
        if (head.ActionsAt < 0)
        {
            throw new LineSyntaxException(line.TrimEnd().Length, "expected 'actions=...' (every flow needs actions; use actions=drop to drop)");
        }

        byte table = head.Table ?? 0;
        var match = head.Match.Build();
        var actions = ActionParser.Parse(line, head.ActionsAt, line.TrimEnd().Length, match, table);
        return new FlowEntry(table, head.Priority, head.Cookie, head.IdleTimeout, head.HardTimeout, match, actions) { Flags = head.Flags };
    }

    /// <summary>
    /// Reads a flow line up to its actions: table, priority, cookie, timeouts and the match. A line
    /// that defines a flow (add-flows) may set cookie and timeouts and may carry the statistics
    /// dump-flows prints (ignored, as ovs-ofctl does); a line that only selects flows (del-flows,
    /// mod-flows) may not.
    /// </summary>
    private static LineHead ReadHead(string text, bool definesFlow)
    {
        var head = new LineHead();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var token in Tokenize(text, 0, text.Length))
        {
            if (token.Key is "actions" or "action")
            {
                if (token.Value is null)
                {
                    throw new LineSyntaxException(token.KeyOffset, "expected '=' after actions");
                }

                head.ActionsAt = token.ValueOffset;
                break;
            }

            switch (token.Key)
            {
                case "table":
                    Once(seen, token);
                    head.Table = (byte)Number(token, FlowEntry.MaxTable, "table");
                    continue;
                case "priority":
                    Once(seen, token);
                    head.Priority = (ushort)Number(token, ushort.MaxValue, "priority");
                    continue;
                case "idle_timeout" or "hard_timeout" or "send_flow_rem" or "check_overlap" or "reset_counts" or "no_packet_counts" or "no_byte_counts" when !definesFlow:
                    throw new LineSyntaxException(token.KeyOffset, $"{token.Key} cannot select flows here");
                case "cookie" when !definesFlow:
                    Once(seen, token);
                    (head.Cookie, head.CookieMask) = CookieWithMask(token);
                    continue;
                case "out_port" when !definesFlow:
                    Once(seen, token);
                    head.OutPort = OutPort(token);
                    continue;
                case "cookie":
                    Once(seen, token);
                    head.Cookie = (ulong)Number(token, ulong.MaxValue, "cookie");
                    continue;
                case "send_flow_rem" or "check_overlap" or "reset_counts" or "no_packet_counts" or "no_byte_counts" when token.Value is null:
                    Once(seen, token);
                    head.Flags |= token.Key switch
                    {
                        "send_flow_rem" => FlowModFlags.SendFlowRemoved,
                        "check_overlap" => FlowModFlags.CheckOverlap,
                        "reset_counts" => FlowModFlags.ResetCounts,
                        "no_packet_counts" => FlowModFlags.NoPacketCounts,
                        _ => FlowModFlags.NoByteCounts,
                    };
                    continue;
                case "importance":
                    throw new LineSyntaxException(token.KeyOffset, "importance is not supported (flows are never evicted here)");
                case "out_port" or "out_group":
                    throw new LineSyntaxException(token.KeyOffset, $"{token.Key} only selects flows (del-flows, mod-flows, dump-flows)");
                case "idle_timeout":
                    Once(seen, token);
                    head.IdleTimeout = (ushort)Number(token, ushort.MaxValue, "idle_timeout");
                    continue;
                case "hard_timeout":
                    Once(seen, token);
                    head.HardTimeout = (ushort)Number(token, ushort.MaxValue, "hard_timeout");
                    continue;
                case "duration" or "n_packets" or "n_bytes" or "idle_age" or "hard_age" when definesFlow:
                    // What dump-flows prints and add-flows ignores, as ovs-ofctl does.
                    continue;
            }

            if (!head.Match.TryApply(token))
            {
                throw UnknownField(token);
            }
        }

        return head;
    }

    private static LineSyntaxException UnknownField(in Token token) =>
        OfFields.WhyUnsupported(token.Key) is { } why
            ? new LineSyntaxException(token.KeyOffset, $"field '{token.Key}' is not supported: {why}")
            : new LineSyntaxException(token.KeyOffset, $"unknown field '{token.Key}'");

    /// <summary>cookie=VALUE[/MASK] where a flow is selected (a mask of -1 means every bit).</summary>
    private static (ulong, ulong) CookieWithMask(in Token token)
    {
        if (token.Value is null)
        {
            throw new LineSyntaxException(token.KeyOffset, "cookie needs a value (cookie=VALUE[/MASK])");
        }

        int slash = token.Value.IndexOf('/', StringComparison.Ordinal);
        string valueText = slash < 0 ? token.Value : token.Value[..slash];
        ulong value = Cookie64(valueText, token.ValueOffset, "cookie");
        if (slash < 0)
        {
            return (value, ulong.MaxValue);
        }

        string maskText = token.Value[(slash + 1)..];
        ulong mask = maskText == "-1" ? ulong.MaxValue : Cookie64(maskText, token.ValueOffset + slash + 1, "cookie mask");
        return (value & mask, mask);
    }

    /// <summary>A 64-bit cookie or cookie mask: a wider number is refused, not cut to its low bits (which would select other flows).</summary>
    private static ulong Cookie64(string text, int offset, string what)
    {
        UInt128 v = FieldText.ParseInteger(text, offset, what);
        return v <= ulong.MaxValue ? (ulong)v : throw new LineSyntaxException(offset, $"{what} {text} out of range (0..{ulong.MaxValue})");
    }

    private static uint OutPort(in Token token)
    {
        if (token.Value is null)
        {
            throw new LineSyntaxException(token.KeyOffset, "out_port needs a port number");
        }

        return uint.TryParse(token.Value, NumberStyles.None, CultureInfo.InvariantCulture, out uint port) && port is > 0 and < 0xff00
            ? port
            : throw new LineSyntaxException(token.ValueOffset, $"out_port: expected a port number 1..65279, got '{token.Value}'");
    }

    /// <summary>What precedes a flow line's actions.</summary>
    private sealed class LineHead
    {
        public MatchBuilder Match { get; } = new();

        public byte? Table { get; set; }

        public ushort Priority { get; set; } = FlowEntry.DefaultPriority;

        public ulong Cookie { get; set; }

        public ushort IdleTimeout { get; set; }

        public ushort HardTimeout { get; set; }

        public FlowModFlags Flags { get; set; }

        /// <summary>Where a flow is selected: which cookie bits must match (0: any cookie).</summary>
        public ulong CookieMask { get; set; }

        /// <summary>Where a flow is selected: only flows that output to this port (null: any).</summary>
        public uint? OutPort { get; set; }

        /// <summary>Where the actions start, or -1 when the line has none.</summary>
        public int ActionsAt { get; set; } = -1;
    }

    private static void Once(HashSet<string> seen, in Token token)
    {
        if (!seen.Add(token.Key))
        {
            throw new LineSyntaxException(token.KeyOffset, $"{token.Key} given twice");
        }
    }

    private static UInt128 Number(in Token token, UInt128 max, string what)
    {
        if (token.Value is null)
        {
            throw new LineSyntaxException(token.KeyOffset, $"{what} needs a value ({what}=N)");
        }

        UInt128 v = FieldText.ParseInteger(token.Value, token.ValueOffset, what);
        if (v > max)
        {
            throw new LineSyntaxException(token.ValueOffset, $"{what} {token.Value} out of range (0..{max})");
        }

        return v;
    }

    /// <summary>One "key[=value]" of the match part, with 0-based offsets into the line.</summary>
    internal readonly record struct Token(string Key, int KeyOffset, string? Value, int ValueOffset);

    /// <summary>ofputil_parse_key_value for the match part: keys end at '=' ':' ',' or blank; values at ',' or blank.</summary>
    internal static IEnumerable<Token> Tokenize(string text, int start, int end)
    {
        int i = start;
        while (i < end)
        {
            while (i < end && IsDelimiter(text[i]))
            {
                i++;
            }

            if (i >= end)
            {
                yield break;
            }

            int keyStart = i;
            while (i < end && !IsDelimiter(text[i]) && text[i] is not ('=' or ':'))
            {
                i++;
            }

            string key = text[keyStart..i];
            if (key.Length == 0)
            {
                throw new LineSyntaxException(keyStart, $"expected a field name before '{text[i]}'");
            }

            if (i < end && text[i] is '=' or ':')
            {
                int valueStart = ++i;
                if (key is "actions" or "action")
                {
                    yield return new Token(key, keyStart, text[valueStart..end], valueStart);
                    yield break;
                }

                while (i < end && !IsDelimiter(text[i]))
                {
                    i++;
                }

                if (i == valueStart)
                {
                    throw new LineSyntaxException(valueStart, $"{key}: expected a value after '='");
                }

                yield return new Token(key, keyStart, text[valueStart..i], valueStart);
            }
            else
            {
                yield return new Token(key, keyStart, null, 0);
            }
        }
    }

    private static bool IsDelimiter(char c) => c is ',' or ' ' or '\t' or '\r' or '\n';

    /// <summary>Accumulates match fields, enforcing no duplicates and, at the end, prerequisites.</summary>
    private sealed class MatchBuilder
    {
        private readonly List<(OfField Field, int Offset)> _set = [];
        private OfFlow _value;
        private OfFlow _mask;
        private int _ethTypeOffset = -1;
        private string? _ethTypeSource;
        private int _protoOffset = -1;
        private string? _protoSource;

        public bool TryApply(in Token token)
        {
            if (token.Value is null && TryShorthand(token.Key, token.KeyOffset))
            {
                return true;
            }

            switch (token.Key)
            {
                case "dl_vlan":
                    Vlan(token, pcp: false);
                    return true;
                case "dl_vlan_pcp":
                    Vlan(token, pcp: true);
                    return true;
            }

            var field = OfFields.Find(token.Key);
            if (field is null)
            {
                return false;
            }

            if (token.Value is null)
            {
                throw new LineSyntaxException(token.KeyOffset, $"{token.Key} needs a value ({token.Key}=VALUE)");
            }

            foreach (var (f, _) in _set)
            {
                if (ReferenceEquals(f, field))
                {
                    throw new LineSyntaxException(token.KeyOffset, $"field {field.Name} given twice");
                }
            }

            var (value, mask) = FieldText.ParseMasked(field, token.Value, token.ValueOffset);
            if (field == OfFields.NwTos && (value & 0x03) != 0)
            {
                throw new LineSyntaxException(token.ValueOffset, $"nw_tos {token.Value}: the two ECN bits must be zero (use nw_ecn)");
            }

            if (field == OfFields.EthType)
            {
                CheckConflict(ref _ethTypeSource, ref _ethTypeOffset, OfFields.EthType, (ushort)value, token.Key, token.KeyOffset);
            }
            else if (field == OfFields.NwProto)
            {
                CheckConflict(ref _protoSource, ref _protoOffset, OfFields.NwProto, (byte)value, token.Key, token.KeyOffset);
            }

            // nw_tos and nw_ecn share a byte: merge into the existing value and mask.
            UInt128 fieldMask = field == OfFields.NwTos ? 0xfc
                : field == OfFields.NwEcn ? 0x03
                : field == OfFields.IcmpType || field == OfFields.IcmpCode ? ushort.MaxValue
                : mask;

            // Fields that share bits (reg0 and xreg0, nw_tos and ip_dscp, vlan_tci and vlan_vid): the
            // later would overwrite the earlier silently (reg0=1,xreg0=0x5 matched reg0=0). eth_type
            // and nw_proto have their own conflict check above, which lets the same value repeat.
            if (field != OfFields.EthType && field != OfFields.NwProto && (field.Get(in _mask) & fieldMask) != 0)
            {
                throw new LineSyntaxException(token.KeyOffset, Overlapping(field, fieldMask) is var (earlier, at)
                    ? $"{token.Key} conflicts with {earlier} at column {at + 1} (both set bits of {field.Name})"
                    : $"{token.Key} conflicts with a field given before it (both set bits of {field.Name})");
            }

            field.Set(ref _mask, field.Get(in _mask) | fieldMask);
            field.Set(ref _value, value);
            _set.Add((field, token.KeyOffset));
            return true;
        }

        /// <summary>The field given before whose bits <paramref name="field"/>'s <paramref name="fieldMask"/> would overwrite.</summary>
        private (string Name, int Offset)? Overlapping(OfField field, UInt128 fieldMask)
        {
            foreach (var (earlier, offset) in _set)
            {
                var probe = default(OfFlow);
                earlier.Set(ref probe, earlier.AllOnes);
                if ((field.Get(in probe) & fieldMask) != 0)
                {
                    return (earlier.Name, offset);
                }
            }

            return null;
        }

        public OfMatch Build()
        {
            foreach (var (field, offset) in _set)
            {
                var prerequisite = field == OfFields.Ipv4Src || field == OfFields.Ipv4Dst ? FieldPrerequisite.Ipv4OrArp : field.Prerequisite;
                if (!Prerequisites.Satisfied(prerequisite, in _value, in _mask))
                {
                    throw new LineSyntaxException(offset, $"{field.Name}: prerequisites not met: needs {Prerequisites.Describe(prerequisite)}");
                }
            }

            return new OfMatch(in _value, in _mask);
        }

        private void Vlan(in Token token, bool pcp)
        {
            if (token.Value is null)
            {
                throw new LineSyntaxException(token.KeyOffset, $"{token.Key} needs a value");
            }

            UInt128 v = FieldText.ParseInteger(token.Value, token.ValueOffset, token.Key);
            ushort tci = _value.Key.Vlan0Tci;
            ushort mask = _mask.Key.Vlan0Tci;

            // dl_vlan and dl_vlan_pcp combine (both set the tag-present bit), but either one again, or
            // after vlan_tci, vlan_vid or vlan_pcp, would overwrite bits already matched; and "no tag"
            // (dl_vlan=0xffff) contradicts a priority. Open vSwitch keeps whichever came last.
            int bits = pcp ? 0xe000 : v == 0xffff ? 0xefff : 0x0fff;
            if ((mask & bits) != 0)
            {
                throw new LineSyntaxException(token.KeyOffset, $"{token.Key} conflicts with a field given before it (both set bits of vlan_tci)");
            }

            if (pcp)
            {
                if (v > 7)
                {
                    throw new LineSyntaxException(token.ValueOffset, $"dl_vlan_pcp {token.Value} out of range (0..7)");
                }

                tci = (ushort)((tci & 0x1fff) | ((int)v << 13) | FlowKey.VlanPresent);
                mask |= 0xf000;
            }
            else if (v == 0xffff)
            {
                // OFP_VLAN_NONE: only packets without a tag.
                tci = 0;
                mask = 0xffff;
            }
            else
            {
                if (v > 4095)
                {
                    throw new LineSyntaxException(token.ValueOffset, $"dl_vlan {token.Value} out of range (0..4095)");
                }

                tci = (ushort)((tci & 0xe000) | (int)v | FlowKey.VlanPresent);
                mask |= 0x1fff;
            }

            _value.Key.Vlan0Tci = tci;
            _mask.Key.Vlan0Tci = mask;
        }

        private bool TryShorthand(string name, int offset)
        {
            (ushort type, byte proto) = name switch
            {
                "ip" => (EtherTypes.Ipv4, (byte)0),
                "ipv6" => (EtherTypes.Ipv6, (byte)0),
                "arp" => (EtherTypes.Arp, (byte)0),
                "rarp" => ((ushort)0x8035, (byte)0),
                "tcp" => (EtherTypes.Ipv4, IpProtocols.Tcp),
                "udp" => (EtherTypes.Ipv4, IpProtocols.Udp),
                "sctp" => (EtherTypes.Ipv4, IpProtocols.Sctp),
                "icmp" => (EtherTypes.Ipv4, IpProtocols.Icmp),
                "tcp6" => (EtherTypes.Ipv6, IpProtocols.Tcp),
                "udp6" => (EtherTypes.Ipv6, IpProtocols.Udp),
                "sctp6" => (EtherTypes.Ipv6, IpProtocols.Sctp),
                "icmp6" => (EtherTypes.Ipv6, IpProtocols.Icmpv6),
                _ => ((ushort)0, (byte)0),
            };
            if (type == 0)
            {
                return false;
            }

            CheckConflict(ref _ethTypeSource, ref _ethTypeOffset, OfFields.EthType, type, name, offset);
            _value.Key.EthType = type;
            _mask.Key.EthType = ushort.MaxValue;
            if (proto != 0)
            {
                CheckConflict(ref _protoSource, ref _protoOffset, OfFields.NwProto, proto, name, offset);
                _value.Key.NwProto = proto;
                _mask.Key.NwProto = byte.MaxValue;
            }

            return true;
        }

        private void CheckConflict(ref string? source, ref int sourceOffset, OfField field, UInt128 value, string name, int offset)
        {
            if (source is not null && field.Get(in _mask) != 0 && field.Get(in _value) != value)
            {
                throw new LineSyntaxException(offset, $"{name} conflicts with {source} at column {sourceOffset + 1} (both set {field.Name})");
            }

            source ??= name;
            if (sourceOffset < 0)
            {
                sourceOffset = offset;
            }
        }
    }
}
