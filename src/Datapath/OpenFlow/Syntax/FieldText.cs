using System.Globalization;
using System.Text;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.OpenFlow.Syntax;

/// <summary>
/// Value spellings of ovs-ofctl fields: parsing (Open vSwitch's mf_parse) and printing
/// (mf_format / match_format helpers). Cold path.
/// </summary>
internal static class FieldText
{
    public static readonly string[] CtStateNames = ["new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"];

    // packet_tcp_flag_to_string: the three reserved bits are named [200] [400] [800], so a flow that matches them prints (and parses back) by name.
    public static readonly string[] TcpFlagNames = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns", "[200]", "[400]", "[800]"];

    /// <summary>Parses "value[/mask]" for <paramref name="field"/>; throws <see cref="LineSyntaxException"/>.</summary>
    public static (UInt128 Value, UInt128 Mask) ParseMasked(OfField field, string text, int offset)
    {
        switch (field.Syntax)
        {
            case FieldSyntax.CtState:
                return ParseFlags(text, offset, CtStateNames, field.Width, "ct_state");
            case FieldSyntax.TcpFlags:
                return ParseFlags(text, offset, TcpFlagNames, field.Width, "tcp_flags");
            case FieldSyntax.Frag:
                return ParseFrag(text, offset);
        }

        int slash = text.IndexOf('/', StringComparison.Ordinal);
        string valueText = slash < 0 ? text : text[..slash];
        UInt128 value = ParseValue(field, valueText, offset);
        UInt128 mask = field.AllOnes;
        if (slash >= 0)
        {
            if (!field.Maskable)
            {
                throw new LineSyntaxException(offset + slash, $"{field.Name} does not support masking");
            }

            string maskText = text[(slash + 1)..];
            mask = field.Syntax switch
            {
                FieldSyntax.Ipv4 when IsPrefixLength(maskText) => PrefixMask(maskText, 32, offset + slash + 1),
                FieldSyntax.Ipv6 when IsPrefixLength(maskText) => PrefixMask(maskText, 128, offset + slash + 1),
                _ => ParseValue(field, maskText, offset + slash + 1),
            };
        }

        return (value & mask, mask);
    }

    /// <summary>Parses one value of <paramref name="field"/> (no mask).</summary>
    public static UInt128 ParseValue(OfField field, string text, int offset)
    {
        switch (field.Syntax)
        {
            case FieldSyntax.Mac:
                return ParseMac(text, offset);
            case FieldSyntax.Ipv4:
                return ParseIpv4(text, offset);
            case FieldSyntax.Ipv6:
                return ParseIpv6(text, offset);
            default:
                UInt128 v = ParseInteger(text, offset, field.Name);
                if (v > field.AllOnes)
                {
                    throw new LineSyntaxException(offset, $"value {text} is too large for {field.Name} ({field.Width} bits)");
                }

                return v;
        }
    }

    public static UInt128 ParseInteger(string text, int offset, string what)
    {
        bool ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? UInt128.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out UInt128 v) && text.Length > 2
            : UInt128.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        if (!ok)
        {
            throw new LineSyntaxException(offset, $"{what}: expected a decimal or 0x-prefixed hexadecimal number, got '{text}'");
        }

        return v;
    }

    public static ulong ParseMac(string text, int offset) =>
        FlowKey.TryParseMac(text, out ulong mac)
            ? mac
            : throw new LineSyntaxException(offset, $"expected an Ethernet address xx:xx:xx:xx:xx:xx, got '{text}'");

    public static uint ParseIpv4(string text, int offset) =>
        AddressText.TryParseIpv4(text, out uint ip) ? ip : throw new LineSyntaxException(offset, $"expected an IPv4 address a.b.c.d, got '{text}'");

    public static UInt128 ParseIpv6(string text, int offset) =>
        AddressText.TryParseIpv6(text, out UInt128 address) ? address : throw new LineSyntaxException(offset, $"expected an IPv6 address, got '{text}'");

    private static bool IsPrefixLength(string text) => text.Length is > 0 and <= 3 && text.All(char.IsAsciiDigit);

    private static UInt128 PrefixMask(string text, int width, int offset)
    {
        int n = int.Parse(text, CultureInfo.InvariantCulture);
        if (n > width)
        {
            throw new LineSyntaxException(offset, $"prefix length {n} is longer than {width} bits");
        }

        UInt128 all = width == 128 ? UInt128.MaxValue : (UInt128.One << width) - 1;
        return n == 0 ? UInt128.Zero : all & ~((UInt128.One << (width - n)) - 1);
    }

    /// <summary>"+a-b" flag syntax, or "a|b" exact flags, or "value/mask" numbers (parse_flags / ct_state syntax).</summary>
    private static (UInt128, UInt128) ParseFlags(string text, int offset, string[] names, int width, string what)
    {
        UInt128 all = (UInt128.One << width) - 1;
        if (text.Length > 0 && (char.IsAsciiDigit(text[0])))
        {
            int slash = text.IndexOf('/', StringComparison.Ordinal);
            UInt128 v = ParseInteger(slash < 0 ? text : text[..slash], offset, what);
            UInt128 m = slash < 0 ? all : ParseInteger(text[(slash + 1)..], offset + slash + 1, what);
            if (v > all || m > all)
            {
                throw new LineSyntaxException(offset, $"{what}: value out of range");
            }

            return (v & m, m);
        }

        uint value = 0;
        uint mask = 0;
        if (text.Length > 0 && text[0] is '+' or '-')
        {
            int i = 0;
            while (i < text.Length)
            {
                char sign = text[i];
                if (sign is not ('+' or '-'))
                {
                    throw new LineSyntaxException(offset + i, $"{what}: expected '+' or '-' before a flag name");
                }

                int start = ++i;
                while (i < text.Length && text[i] is not ('+' or '-'))
                {
                    i++;
                }

                uint bit = FlagBit(text[start..i], names, offset + start, what);
                if ((mask & bit) != 0)
                {
                    throw new LineSyntaxException(offset + start, $"{what}: flag '{text[start..i]}' given twice");
                }

                mask |= bit;
                if (sign == '+')
                {
                    value |= bit;
                }
            }

            return (value, mask);
        }

        int pos = 0;
        foreach (string name in text.Split('|'))
        {
            value |= FlagBit(name, names, offset + pos, what);
            pos += name.Length + 1;
        }

        return (value, all);
    }

    private static uint FlagBit(string name, string[] names, int offset, string what)
    {
        int index = Array.IndexOf(names, name);
        if (index < 0)
        {
            throw new LineSyntaxException(offset, $"{what}: unknown flag '{name}' (expected one of {string.Join(", ", names)})");
        }

        return 1u << index;
    }

    private static (UInt128, UInt128) ParseFrag(string text, int offset)
    {
        const byte any = FlowKey.FragAny;
        const byte later = FlowKey.FragLater;
        return text switch
        {
            "no" => (0, any),
            "yes" => (any, any),
            "first" => (any, any | later),
            "later" => (any | later, any | later),
            "not_later" => (0, later),
            _ => throw new LineSyntaxException(offset, $"nw_frag: expected no, yes, first, later or not_later, got '{text}'"),
        };
    }

    // ---- printing ----

    public static StringBuilder AppendMac(StringBuilder sb, ulong mac) => sb.AppendMac(mac);

    public static StringBuilder AppendIpv4(StringBuilder sb, uint ip) => sb.AppendIpv4(ip);

    /// <summary>ip_format_masked: "a.b.c.d", "/N" for a CIDR mask, else "/a.b.c.d".</summary>
    public static void AppendIpv4Masked(StringBuilder sb, uint value, uint mask)
    {
        sb.AppendIpv4(value);
        if (mask != uint.MaxValue)
        {
            int prefix = System.Numerics.BitOperations.PopCount(mask);
            if (prefix == 0 ? mask == 0 : mask == uint.MaxValue << (32 - prefix))
            {
                sb.Append('/').Append(prefix.ToString(CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append('/').AppendIpv4(mask);
            }
        }
    }

    /// <summary>ipv6_format_masked: address, "/N" for a CIDR mask, else "/mask".</summary>
    public static void AppendIpv6Masked(StringBuilder sb, UInt128 value, UInt128 mask)
    {
        sb.AppendIpv6(value);
        if (mask != UInt128.MaxValue)
        {
            int prefix = (int)UInt128.PopCount(mask);
            bool cidr = prefix == 0 ? mask == UInt128.Zero : mask == UInt128.MaxValue << (128 - prefix);
            if (cidr)
            {
                sb.Append('/').Append(prefix.ToString(CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append('/').AppendIpv6(mask);
            }
        }
    }

    /// <summary>eth_format_masked.</summary>
    public static void AppendMacMasked(StringBuilder sb, ulong value, ulong mask)
    {
        sb.AppendMac(value);
        if (mask != 0xFFFF_FFFF_FFFFUL)
        {
            sb.Append('/').AppendMac(mask);
        }
    }

    /// <summary>"%#x" of a 128-bit value.</summary>
    public static StringBuilder AppendHashHex(StringBuilder sb, UInt128 value) =>
        value == UInt128.Zero ? sb.Append('0') : sb.Append("0x").Append(value.ToString("x", CultureInfo.InvariantCulture));

    /// <summary>format_flags: names joined by '|', "0" when none.</summary>
    public static void AppendFlags(StringBuilder sb, uint flags, string[] names)
    {
        if (flags == 0)
        {
            sb.Append('0');
            return;
        }

        bool first = true;
        for (int i = 0; i < 32; i++)
        {
            uint bit = 1u << i;
            if ((flags & bit) == 0)
            {
                continue;
            }

            if (!first)
            {
                sb.Append('|');
            }

            first = false;
            sb.Append(i < names.Length ? names[i] : "[" + bit.ToString("x", CultureInfo.InvariantCulture) + "]");
        }
    }

    /// <summary>format_flags_masked: "+a-b" for each masked bit, lowest first; exact masks as format_flags.</summary>
    public static void AppendFlagsMasked(StringBuilder sb, uint flags, uint mask, uint maxMask, string[] names)
    {
        if (mask == maxMask)
        {
            AppendFlags(sb, flags, names);
            return;
        }

        if (mask == 0)
        {
            sb.Append("0/0");
            return;
        }

        for (int i = 0; i < 32; i++)
        {
            uint bit = 1u << i;
            if ((mask & bit) != 0)
            {
                sb.Append((flags & bit) != 0 ? '+' : '-');
                sb.Append(i < names.Length ? names[i] : "[Unknown]");
            }
        }
    }

    /// <summary>mf_format: the value (and mask when partial) in the field's own syntax.</summary>
    public static void AppendValue(StringBuilder sb, OfField field, UInt128 value, UInt128 mask)
    {
        bool full = mask == field.AllOnes;
        switch (field.Syntax)
        {
            case FieldSyntax.Mac:
                AppendMacMasked(sb, (ulong)value, full ? 0xFFFF_FFFF_FFFFUL : (ulong)mask);
                return;
            case FieldSyntax.Ipv4:
                AppendIpv4Masked(sb, (uint)value, full ? uint.MaxValue : (uint)mask);
                return;
            case FieldSyntax.Ipv6:
                AppendIpv6Masked(sb, value, full ? UInt128.MaxValue : mask);
                return;
            case FieldSyntax.Decimal:
                sb.Append(value.ToString(CultureInfo.InvariantCulture));
                if (!full)
                {
                    sb.Append('/');
                    AppendHashHex(sb, mask);
                }

                return;
            case FieldSyntax.CtState:
                AppendFlagsMasked(sb, (uint)value, (uint)mask, 0xff, CtStateNames);
                return;
            case FieldSyntax.TcpFlags:
                AppendFlagsMasked(sb, (uint)value, (uint)mask, 0x0fff, TcpFlagNames);
                return;
            default:
                AppendHashHex(sb, value);
                if (!full)
                {
                    sb.Append('/');
                    AppendHashHex(sb, mask);
                }

                return;
        }
    }
}
