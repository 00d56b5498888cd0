using System.Globalization;
using System.Text;
using Datapath.Flow;

namespace Datapath.OpenFlow.Syntax;

/// <summary>
/// Writes a match in ovs-ofctl's normalised form, field order and spelling of Open vSwitch's
/// match_format() (lib/match.c): priority (when not 32768), recirc_id, ct_*, packet type ("eth",
/// megaflows only), the protocol shorthand (ip, tcp6, arp...), registers, metadata, in_port,
/// VLAN, MACs, dl_type, addresses, nw_proto, TOS/ECN/TTL, nw_frag, L4 fields, tcp_flags.
/// Cold path.
/// </summary>
public static class MatchFormatter
{
    private const ushort Rarp = 0x8035;

    /// <summary>The match of a rule, with "priority=N," unless N is the default.</summary>
    public static string Format(OfMatch match, int priority)
    {
        ArgumentNullException.ThrowIfNull(match);
        var sb = new StringBuilder(96);
        Append(sb, in match.Value, in match.Mask, priority, megaflow: false);
        return sb.ToString();
    }

    /// <summary>
    /// Appends value/mask in match_format order. <paramref name="megaflow"/> prints the packet
    /// type ("eth") as Open vSwitch does when recirc_id is part of the match.
    /// </summary>
    public static void Append(StringBuilder sb, in OfFlow f, in OfFlow m, int priority, bool megaflow)
    {
        ArgumentNullException.ThrowIfNull(sb);
        int start = sb.Length;
        if (priority != FlowEntry.DefaultPriority)
        {
            sb.Append("priority=").Append(priority.ToString(CultureInfo.InvariantCulture)).Append(',');
        }

        if (m.Key.RecircId != 0)
        {
            Uint32(sb, "recirc_id", f.Key.RecircId, m.Key.RecircId);
        }

        if (m.Key.CtState != 0)
        {
            sb.Append("ct_state=");
            FieldText.AppendFlagsMasked(sb, (uint)f.Key.CtState, (byte)m.Key.CtState, 0xff, FieldText.CtStateNames);
            sb.Append(',');
        }

        if (m.Key.CtZone != 0)
        {
            sb.Append("ct_zone=").Append(f.Key.CtZone.ToString(CultureInfo.InvariantCulture));
            if (m.Key.CtZone != ushort.MaxValue)
            {
                sb.Append("/0x").Append(m.Key.CtZone.ToString("x", CultureInfo.InvariantCulture));
            }

            sb.Append(',');
        }

        if (m.Key.CtMark != 0)
        {
            Uint32(sb, "ct_mark", f.Key.CtMark, m.Key.CtMark);
        }

        if (m.Key.CtLabel != UInt128.Zero)
        {
            sb.Append("ct_label=");
            FieldText.AppendHashHex(sb, f.Key.CtLabel);
            if (m.Key.CtLabel != UInt128.MaxValue)
            {
                sb.Append('/');
                FieldText.AppendHashHex(sb, m.Key.CtLabel);
            }

            sb.Append(',');
        }

        // match_format: the original-direction tuple after the other ct fields, ports only with the protocol.
        Ipv4(sb, "ct_nw_src", f.Key.CtNwSrc, m.Key.CtNwSrc);
        Ipv6(sb, "ct_ipv6_src", f.Key.CtIpv6Src, m.Key.CtIpv6Src);
        Ipv4(sb, "ct_nw_dst", f.Key.CtNwDst, m.Key.CtNwDst);
        Ipv6(sb, "ct_ipv6_dst", f.Key.CtIpv6Dst, m.Key.CtIpv6Dst);
        if (m.Key.CtNwProto != 0)
        {
            sb.Append("ct_nw_proto=").Append(f.Key.CtNwProto.ToString(CultureInfo.InvariantCulture)).Append(',');
        }

        // Open vSwitch prints these only with ct_nw_proto; printed whenever matched here, so no match hides.
        Be16(sb, "ct_tp_src", f.Key.CtTpSrc, m.Key.CtTpSrc);
        Be16(sb, "ct_tp_dst", f.Key.CtTpDst, m.Key.CtTpDst);

        if (megaflow)
        {
            sb.Append("eth,");
        }

        ushort dlType = f.Key.EthType;
        bool typeMasked = m.Key.EthType != 0;
        bool skipType = false;
        bool skipProto = false;
        if (typeMasked)
        {
            skipType = true;
            bool protoMasked = m.Key.NwProto != 0;
            string? shorthand = dlType switch
            {
                EtherTypes.Ipv4 => protoMasked ? f.Key.NwProto switch
                {
                    IpProtocols.Icmp => "icmp",
                    IpProtocols.Tcp => "tcp",
                    IpProtocols.Udp => "udp",
                    IpProtocols.Sctp => "sctp",
                    _ => null,
                } : "ip",
                EtherTypes.Ipv6 => protoMasked ? f.Key.NwProto switch
                {
                    IpProtocols.Icmpv6 => "icmp6",
                    IpProtocols.Tcp => "tcp6",
                    IpProtocols.Udp => "udp6",
                    IpProtocols.Sctp => "sctp6",
                    _ => null,
                } : "ipv6",
                EtherTypes.Arp => "arp",
                Rarp => "rarp",
                _ => string.Empty,
            };
            if (shorthand is null)
            {
                sb.Append(dlType == EtherTypes.Ipv4 ? "ip," : "ipv6,");
            }
            else if (shorthand.Length == 0)
            {
                skipType = false;
            }
            else
            {
                sb.Append(shorthand).Append(',');
                skipProto = protoMasked && dlType is EtherTypes.Ipv4 or EtherTypes.Ipv6;
            }
        }

        for (int i = 0; i < OfRegisters.Count; i++)
        {
            if (m.Regs[i] != 0)
            {
                Uint32(sb, "reg" + i.ToString(CultureInfo.InvariantCulture), f.Regs[i], m.Regs[i]);
            }
        }

        if (m.Metadata != 0)
        {
            sb.Append("metadata=");
            FieldText.AppendHashHex(sb, f.Metadata);
            if (m.Metadata != ulong.MaxValue)
            {
                sb.Append('/');
                FieldText.AppendHashHex(sb, m.Metadata);
            }

            sb.Append(',');
        }

        if (m.Key.InPort != 0)
        {
            sb.Append("in_port=").Append(f.Key.InPort.ToString(CultureInfo.InvariantCulture)).Append(',');
        }

        Vlan(sb, f.Key.Vlan0Tci, m.Key.Vlan0Tci);
        if (m.Key.EthSrc != 0)
        {
            sb.Append("dl_src=");
            FieldText.AppendMacMasked(sb, f.Key.EthSrc, m.Key.EthSrc);
            sb.Append(',');
        }

        if (m.Key.EthDst != 0)
        {
            sb.Append("dl_dst=");
            FieldText.AppendMacMasked(sb, f.Key.EthDst, m.Key.EthDst);
            sb.Append(',');
        }

        if (!skipType && typeMasked)
        {
            sb.Append("dl_type=0x").Append(dlType.ToString("x4", CultureInfo.InvariantCulture)).Append(',');
        }

        bool arp = dlType is EtherTypes.Arp or Rarp;
        if (dlType == EtherTypes.Ipv6)
        {
            Ipv6(sb, "ipv6_src", f.Key.Ipv6Src, m.Key.Ipv6Src);
            Ipv6(sb, "ipv6_dst", f.Key.Ipv6Dst, m.Key.Ipv6Dst);
            if (m.Key.Ipv6Label != 0)
            {
                sb.Append("ipv6_label=0x").Append(f.Key.Ipv6Label.ToString("x5", CultureInfo.InvariantCulture));
                if (m.Key.Ipv6Label != 0xFFFFF)
                {
                    sb.Append("/0x").Append(m.Key.Ipv6Label.ToString("x5", CultureInfo.InvariantCulture));
                }

                sb.Append(',');
            }
        }
        else
        {
            Ipv4(sb, arp ? "arp_spa" : "nw_src", f.Key.NwSrc, m.Key.NwSrc);
            Ipv4(sb, arp ? "arp_tpa" : "nw_dst", f.Key.NwDst, m.Key.NwDst);
        }

        if (!skipProto && m.Key.NwProto != 0)
        {
            sb.Append(arp ? "arp_op=" : "nw_proto=").Append(f.Key.NwProto.ToString(CultureInfo.InvariantCulture)).Append(',');
        }

        if (arp)
        {
            Mac(sb, "arp_sha", f.Key.ArpSha, m.Key.ArpSha);
            Mac(sb, "arp_tha", f.Key.ArpTha, m.Key.ArpTha);
        }

        if ((m.Key.NwTos & 0xfc) != 0)
        {
            sb.Append("nw_tos=").Append((f.Key.NwTos & 0xfc).ToString(CultureInfo.InvariantCulture)).Append(',');
        }

        if ((m.Key.NwTos & 0x03) != 0)
        {
            sb.Append("nw_ecn=").Append((f.Key.NwTos & 0x03).ToString(CultureInfo.InvariantCulture)).Append(',');
        }

        if (m.Key.NwTtl != 0)
        {
            sb.Append("nw_ttl=").Append(f.Key.NwTtl.ToString(CultureInfo.InvariantCulture)).Append(',');
        }

        Frag(sb, f.Key.NwFrag, m.Key.NwFrag);
        bool icmp = (dlType == EtherTypes.Ipv4 && f.Key.NwProto == IpProtocols.Icmp)
            || (dlType == EtherTypes.Ipv6 && f.Key.NwProto == IpProtocols.Icmpv6);
        if (icmp)
        {
            Be16(sb, "icmp_type", f.Key.TpSrc, m.Key.TpSrc);
            Be16(sb, "icmp_code", f.Key.TpDst, m.Key.TpDst);
            if (dlType == EtherTypes.Ipv6)
            {
                Ipv6(sb, "nd_target", f.Key.NdTarget, m.Key.NdTarget);
                Mac(sb, "nd_sll", f.Key.ArpSha, m.Key.ArpSha);
                Mac(sb, "nd_tll", f.Key.ArpTha, m.Key.ArpTha);
            }
        }
        else
        {
            Be16(sb, "tp_src", f.Key.TpSrc, m.Key.TpSrc);
            Be16(sb, "tp_dst", f.Key.TpDst, m.Key.TpDst);
        }

        if (dlType is EtherTypes.Ipv4 or EtherTypes.Ipv6 && f.Key.NwProto == IpProtocols.Tcp && (m.Key.TcpFlags & 0x0fff) != 0)
        {
            sb.Append("tcp_flags=");
            FieldText.AppendFlagsMasked(sb, (uint)(f.Key.TcpFlags & 0x0fff), (uint)(m.Key.TcpFlags & 0x0fff), 0x0fff, FieldText.TcpFlagNames);
            sb.Append(',');
        }

        if (sb.Length > start && sb[^1] == ',')
        {
            sb.Length--;
        }
    }

    private static void Uint32(StringBuilder sb, string name, uint value, uint mask)
    {
        sb.Append(name).Append('=').AppendHashHex(value);
        if (mask != uint.MaxValue)
        {
            sb.Append('/').AppendHashHex(mask);
        }

        sb.Append(',');
    }

    private static void Be16(StringBuilder sb, string name, ushort value, ushort mask)
    {
        if (mask == 0)
        {
            return;
        }

        sb.Append(name).Append('=');
        if (mask == ushort.MaxValue)
        {
            sb.Append(value.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            sb.Append("0x").Append(value.ToString("x", CultureInfo.InvariantCulture))
              .Append("/0x").Append(mask.ToString("x", CultureInfo.InvariantCulture));
        }

        sb.Append(',');
    }

    private static void Mac(StringBuilder sb, string name, ulong value, ulong mask)
    {
        if (mask != 0)
        {
            sb.Append(name).Append('=');
            FieldText.AppendMacMasked(sb, value, mask);
            sb.Append(',');
        }
    }

    private static void Ipv4(StringBuilder sb, string name, uint value, uint mask)
    {
        if (mask != 0)
        {
            sb.Append(name).Append('=');
            FieldText.AppendIpv4Masked(sb, value, mask);
            sb.Append(',');
        }
    }

    private static void Ipv6(StringBuilder sb, string name, UInt128 value, UInt128 mask)
    {
        if (mask != UInt128.Zero)
        {
            sb.Append(name).Append('=');
            FieldText.AppendIpv6Masked(sb, value, mask);
            sb.Append(',');
        }
    }

    private static void Vlan(StringBuilder sb, ushort tci, ushort mask)
    {
        if (mask == 0)
        {
            return;
        }

        int vidMask = mask & 0x0fff;
        int pcpMask = mask & 0xe000;
        bool cfi = (mask & FlowKey.VlanPresent) != 0;
        if (cfi && (tci & FlowKey.VlanPresent) != 0 && (vidMask == 0 || vidMask == 0x0fff) && (pcpMask == 0 || pcpMask == 0xe000) && (vidMask | pcpMask) != 0)
        {
            if (vidMask != 0)
            {
                sb.Append("dl_vlan=").Append((tci & 0x0fff).ToString(CultureInfo.InvariantCulture)).Append(',');
            }

            if (pcpMask != 0)
            {
                sb.Append("dl_vlan_pcp=").Append((tci >> 13).ToString(CultureInfo.InvariantCulture)).Append(',');
            }
        }
        else if (mask == ushort.MaxValue)
        {
            sb.Append("vlan_tci=0x").Append(tci.ToString("x4", CultureInfo.InvariantCulture)).Append(',');
        }
        else
        {
            sb.Append("vlan_tci=0x").Append(tci.ToString("x4", CultureInfo.InvariantCulture))
              .Append("/0x").Append(mask.ToString("x4", CultureInfo.InvariantCulture)).Append(',');
        }
    }

    private static void Frag(StringBuilder sb, byte frag, byte mask)
    {
        const byte any = FlowKey.FragAny;
        const byte later = FlowKey.FragLater;
        string? text = (mask & (any | later)) switch
        {
            any | later => (frag & any) != 0 ? ((frag & later) != 0 ? "later" : "first") : ((frag & later) != 0 ? "<error>" : "no"),
            any => (frag & any) != 0 ? "yes" : "no",
            later => (frag & later) != 0 ? "later" : "not_later",
            _ => null,
        };
        if (text is not null)
        {
            sb.Append("nw_frag=").Append(text).Append(',');
        }
    }
}
