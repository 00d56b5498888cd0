using System.Globalization;
using System.Text;

namespace Datapath.Flow;

/// <summary>
/// The value spellings of Open vSwitch's datapath flow syntax (lib/odp-util.c format helpers,
/// lib/flow.c format_flags, lib/dynamic-string.c ds_put_hex). Cold path: used for dumps and traces.
/// </summary>
internal static class OdpText
{
    private static readonly string[] CtStateNames = ["new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"];

    // packet_tcp_flag_to_string: bits 0..11 (the three reserved bits print as [200] [400] [800]).
    private static readonly string[] TcpFlagNames = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns", "[200]", "[400]", "[800]"];

    /// <summary>The 12 bits OVS keeps of the TCP flags field (TCP_FLAGS()).</summary>
    public const ushort TcpFlagsMask = 0x0fff;

    /// <summary>C's "%#x": "0" for zero, otherwise "0x" and lowercase hex digits.</summary>
    public static StringBuilder AppendHashHex(this StringBuilder sb, ulong value) =>
        value == 0 ? sb.Append('0') : sb.Append("0x").Append(value.ToString("x", CultureInfo.InvariantCulture));

    /// <summary>ds_put_hex of a 128-bit big-endian value: "0x" and the digits without leading zeros, or "0".</summary>
    public static StringBuilder AppendHex128(this StringBuilder sb, UInt128 value) =>
        value == UInt128.Zero ? sb.Append('0') : sb.Append("0x").Append(value.ToString("x", CultureInfo.InvariantCulture));

    /// <summary>"0x%04x".</summary>
    public static StringBuilder AppendHex4(this StringBuilder sb, ushort value) =>
        sb.Append("0x").Append(value.ToString("x4", CultureInfo.InvariantCulture));

    public static StringBuilder AppendDecimal(this StringBuilder sb, ulong value) =>
        sb.Append(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>ETH_ADDR_FMT: six lowercase two-digit hex bytes joined by colons.</summary>
    public static StringBuilder AppendMac(this StringBuilder sb, ulong mac)
    {
        for (int shift = 40; shift >= 0; shift -= 8)
        {
            sb.Append(((byte)(mac >> shift)).ToString("x2", CultureInfo.InvariantCulture));
            if (shift != 0)
            {
                sb.Append(':');
            }
        }

        return sb;
    }

    /// <summary>IP_FMT: dotted quad of an address stored as its big-endian number.</summary>
    public static StringBuilder AppendIpv4(this StringBuilder sb, uint address) =>
        sb.AppendDecimal(address >> 24).Append('.')
          .AppendDecimal((address >> 16) & 0xff).Append('.')
          .AppendDecimal((address >> 8) & 0xff).Append('.')
          .AppendDecimal(address & 0xff);

    /// <summary>inet_ntop(AF_INET6): RFC 5952 text, "::" for the longest zero run.</summary>
    public static StringBuilder AppendIpv6(this StringBuilder sb, UInt128 address) =>
        sb.Append(FlowKey.ToIPAddress(address).ToString());

    /// <summary>
    /// format_flags: the names of the set bits, lowest first, joined by <paramref name="delimiter"/>;
    /// "0" when none is set; bits without a name as one trailing hex number.
    /// </summary>
    public static StringBuilder AppendFlags(this StringBuilder sb, uint flags, ReadOnlySpan<string> names, char delimiter)
    {
        if (flags == 0)
        {
            return sb.Append('0');
        }

        uint unnamed = 0;
        bool first = true;
        for (int bit = 0; bit < 32; bit++)
        {
            uint b = 1u << bit;
            if ((flags & b) == 0)
            {
                continue;
            }

            if (bit < names.Length)
            {
                if (!first)
                {
                    sb.Append(delimiter);
                }

                sb.Append(names[bit]);
                first = false;
            }
            else
            {
                unnamed |= b;
            }
        }

        if (unnamed != 0)
        {
            if (!first)
            {
                sb.Append(delimiter);
            }

            sb.Append("0x").Append(unnamed.ToString("x", CultureInfo.InvariantCulture));
        }

        return sb;
    }

    /// <summary>
    /// format_flags_masked: for each bit of <paramref name="mask"/>, lowest first, "+name" when the
    /// bit is set in <paramref name="flags"/> and "-name" when clear; a full mask prints as format_flags.
    /// </summary>
    public static StringBuilder AppendFlagsMasked(this StringBuilder sb, uint flags, uint mask, uint maxMask, ReadOnlySpan<string> names)
    {
        if (mask == maxMask)
        {
            return sb.AppendFlags(flags, names, '|');
        }

        if (mask == 0)
        {
            return sb.Append("0/0");
        }

        for (int bit = 0; bit < 32; bit++)
        {
            uint b = 1u << bit;
            if ((mask & b) != 0)
            {
                sb.Append((flags & b) != 0 ? '+' : '-').Append(bit < names.Length ? names[bit] : "[Unknown]");
            }
        }

        return sb;
    }

    public static ReadOnlySpan<string> CtStates => CtStateNames;

    public static ReadOnlySpan<string> TcpFlags => TcpFlagNames;

    /// <summary>ds_chomp(ds, ','): drops one trailing comma.</summary>
    public static void ChompComma(this StringBuilder sb)
    {
        if (sb.Length > 0 && sb[^1] == ',')
        {
            sb.Length--;
        }
    }
}
