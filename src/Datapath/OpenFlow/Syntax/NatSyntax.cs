using System.Globalization;
using System.Text;
using Datapath.Actions;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.OpenFlow.Syntax;

/// <summary>
/// The nat argument of ct in ovs-ofctl syntax (Open vSwitch's parse_NAT, str_to_nat_range and
/// format_NAT in lib/ofp-actions.c): <c>nat</c>, or <c>nat(src|dst[=ADDR[-ADDR][:PORT[-PORT]]][,persistent][,hash|,random])</c>,
/// IPv6 addresses in brackets when a port follows. Cold path.
/// </summary>
internal static class NatSyntax
{
    /// <summary>Parses the text inside nat(...) (empty for bare nat); <paramref name="offset"/> is its position in the line.</summary>
    public static NatArgs Parse(string text, int offset)
    {
        var nat = new NatArgs();
        bool src = false;
        bool dst = false;
        bool range = false;
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length == 0)
            {
                continue;
            }

            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string key = eq < 0 ? part : part[..eq];
            string value = eq < 0 ? string.Empty : part[(eq + 1)..];
            switch (key)
            {
                case "src":
                case "dst":
                    if (key == "src")
                    {
                        src = true;
                    }
                    else
                    {
                        dst = true;
                    }

                    nat = ParseRange(value, offset, nat) with { Kind = key == "src" ? NatKind.Source : NatKind.Destination };
                    range |= nat.HasAddress;
                    break;
                case "persistent":
                    nat = nat with { Flags = nat.Flags | NatFlags.Persistent };
                    break;
                case "hash":
                    nat = nat with { Flags = nat.Flags | NatFlags.Hash };
                    break;
                case "random":
                    nat = nat with { Flags = nat.Flags | NatFlags.Random };
                    break;
                default:
                    throw new LineSyntaxException(offset, $"invalid key \"{key}\" in \"nat\" argument");
            }
        }

        if (src && dst)
        {
            throw new LineSyntaxException(offset, "May only specify one of \"src\" or \"dst\".");
        }

        if (!src && !dst && (nat.Flags != NatFlags.None || range))
        {
            throw new LineSyntaxException(offset, nat.Flags != NatFlags.None ? "Flags allowed only with \"src\" or \"dst\"." : "Range allowed only with \"src\" or \"dst\".");
        }

        if ((nat.Flags & (NatFlags.Hash | NatFlags.Random)) == (NatFlags.Hash | NatFlags.Random))
        {
            throw new LineSyntaxException(offset, "Both \"hash\" and \"random\" are not allowed.");
        }

        return nat;
    }

    /// <summary>str_to_nat_range: ADDR[-ADDR][:PORT[-PORT]], or nothing (keep the address).</summary>
    private static NatArgs ParseRange(string s, int offset, NatArgs nat)
    {
        if (s.Length == 0)
        {
            return nat;
        }

        int n = 0;
        bool v6;
        if (!TryAddress(s, ref n, out UInt128 min, out v6))
        {
            throw new LineSyntaxException(offset, $"invalid nat range \"{s}\"");
        }

        UInt128 max = min;
        if (n < s.Length && s[n] == '-')
        {
            n++;
            if (!TryAddress(s, ref n, out max, out bool maxV6) || maxV6 != v6 || max < min)
            {
                throw new LineSyntaxException(offset, $"invalid nat range \"{s}\"");
            }
        }

        ushort minPort = 0;
        ushort maxPort = 0;
        if (n < s.Length && s[n] == ':')
        {
            n++;
            if (!TryPort(s, ref n, out minPort))
            {
                throw new LineSyntaxException(offset, $"invalid nat range \"{s}\"");
            }

            maxPort = minPort;
            if (n < s.Length && s[n] == '-')
            {
                n++;
                if (!TryPort(s, ref n, out maxPort) || maxPort < minPort)
                {
                    throw new LineSyntaxException(offset, $"invalid nat range \"{s}\"");
                }

                // Port 0 means "no ports": 0-N would keep an upper port that dumps, the wire and the
                // port choice ignore, yet the tuple hash counts; the flow would not print as it behaves.
                if (minPort == 0 && maxPort != 0)
                {
                    throw new LineSyntaxException(offset, $"invalid nat range \"{s}\" (a port range starts at port 1)");
                }
            }
        }

        if (n != s.Length)
        {
            throw new LineSyntaxException(offset, $"garbage ({s[n..]}) after nat range \"{s}\" (pos: {n})");
        }

        return nat with { HasAddress = true, IsIpv6 = v6, MinAddress = min, MaxAddress = max, MinPort = minPort, MaxPort = maxPort };
    }

    private static bool TryAddress(string s, ref int n, out UInt128 address, out bool v6)
    {
        address = 0;
        v6 = false;
        int start = n;
        bool bracket = n < s.Length && s[n] == '[';
        int end;
        if (bracket)
        {
            end = s.IndexOf(']', n);
            if (end < 0)
            {
                return false;
            }

            start = n + 1;
            n = end + 1;
        }
        else
        {
            // An IPv4 address ends at '-' or ':'; an unbracketed IPv6 address takes every hex digit and colon.
            end = n;
            while (end < s.Length && (char.IsAsciiHexDigit(s[end]) || s[end] is '.' or ':'))
            {
                end++;
            }

            int dot = s.IndexOf('.', n, end - n);
            if (dot >= 0)
            {
                int colon = s.IndexOf(':', n, end - n);
                if (colon >= 0)
                {
                    end = colon;
                }
            }

            n = end;
        }

        // The match syntax's strict spellings: no "010.0.0.1" read as octal, no IPv6 scope dropped.
        string text = s[start..end];
        if (!bracket && AddressText.TryParseIpv4(text, out uint ipv4))
        {
            address = ipv4;
            return true;
        }

        v6 = AddressText.TryParseIpv6(text, out address);
        return v6;
    }

    private static bool TryPort(string s, ref int n, out ushort port)
    {
        int start = n;
        while (n < s.Length && char.IsAsciiDigit(s[n]))
        {
            n++;
        }

        return ushort.TryParse(s.AsSpan(start, n - start), NumberStyles.None, CultureInfo.InvariantCulture, out port);
    }

    /// <summary>format_NAT (and format_odp_ct_nat, which prints the same): nat, nat(src), nat(dst=ADDR[-ADDR][:PORT[-PORT]],flags).</summary>
    public static void Append(StringBuilder sb, NatArgs nat)
    {
        sb.Append("nat");
        if (nat.Kind == NatKind.Existing)
        {
            return;
        }

        sb.Append('(').Append(nat.Kind == NatKind.Source ? "src" : "dst");
        if (nat.HasAddress)
        {
            sb.Append('=');
            AppendAddress(sb, nat, nat.MinAddress);
            if (nat.MaxAddress != nat.MinAddress)
            {
                sb.Append('-');
                AppendAddress(sb, nat, nat.MaxAddress);
            }

            if (nat.MinPort != 0)
            {
                sb.Append(':').Append(nat.MinPort.ToString(CultureInfo.InvariantCulture));
                if (nat.MaxPort != 0 && nat.MaxPort != nat.MinPort)
                {
                    sb.Append('-').Append(nat.MaxPort.ToString(CultureInfo.InvariantCulture));
                }
            }

            // As format_NAT, the flags are printed only with a range.
            if ((nat.Flags & NatFlags.Persistent) != 0)
            {
                sb.Append(",persistent");
            }

            if ((nat.Flags & NatFlags.Hash) != 0)
            {
                sb.Append(",hash");
            }

            if ((nat.Flags & NatFlags.Random) != 0)
            {
                sb.Append(",random");
            }
        }

        sb.Append(')');
    }

    private static void AppendAddress(StringBuilder sb, NatArgs nat, UInt128 address)
    {
        if (!nat.IsIpv6)
        {
            sb.AppendIpv4((uint)address);
            return;
        }

        // ipv6_format_addr_bracket: brackets only when a port follows.
        bool bracket = nat.MinPort != 0;
        if (bracket)
        {
            sb.Append('[');
        }

        sb.AppendIpv6(address);
        if (bracket)
        {
            sb.Append(']');
        }
    }
}
