using System.Globalization;
using System.Text;
using Datapath.Flow;

namespace Datapath.OpenFlow.Syntax;

/// <summary>Writes OpenFlow actions as ovs-ofctl prints them (Open vSwitch's ofpacts_format). Cold path.</summary>
public static class ActionFormatter
{
    /// <summary>The list joined by commas; "drop" when empty.</summary>
    public static string Format(IReadOnlyList<OfAction> actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        var sb = new StringBuilder(64);
        AppendList(sb, actions);
        return sb.ToString();
    }

    public static void AppendList(StringBuilder sb, IReadOnlyList<OfAction> actions)
    {
        ArgumentNullException.ThrowIfNull(sb);
        ArgumentNullException.ThrowIfNull(actions);
        if (actions.Count == 0)
        {
            sb.Append("drop");
            return;
        }

        for (int i = 0; i < actions.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            Append(sb, actions[i]);
        }
    }

    /// <summary>One action.</summary>
    public static void Append(StringBuilder sb, OfAction action)
    {
        ArgumentNullException.ThrowIfNull(sb);
        switch (action)
        {
            case OutputAction o:
                sb.Append("output:").Append(o.Port.ToString(CultureInfo.InvariantCulture));
                break;
            case ReservedOutputAction r:
                sb.Append(r.Port switch
                {
                    ReservedPort.InPort => "IN_PORT",
                    ReservedPort.Normal => "NORMAL",
                    ReservedPort.Flood => "FLOOD",
                    _ => "ALL",
                });
                break;
            case ResubmitAction rs:
                sb.Append("resubmit(");
                if (rs.InPort is uint p)
                {
                    sb.Append(p.ToString(CultureInfo.InvariantCulture));
                }

                sb.Append(',');
                if (rs.Table is byte t)
                {
                    sb.Append(t.ToString(CultureInfo.InvariantCulture));
                }

                sb.Append(')');
                break;
            case GotoTableAction g:
                sb.Append("goto_table:").Append(g.Table.ToString(CultureInfo.InvariantCulture));
                break;
            case ConntrackAction ct:
                Conntrack(sb, ct);
                break;
            case CtClearAction:
                sb.Append("ct_clear");
                break;
            case SetFieldOfAction s:
                SetField(sb, s);
                break;
            case DecTtlAction:
                sb.Append("dec_ttl");
                break;
            case PushVlanAction pv:
                sb.Append("push_vlan:0x").Append(pv.Tpid.ToString("x4", CultureInfo.InvariantCulture));
                break;
            case PopVlanAction pop:
                sb.Append(pop.StripSpelling ? "strip_vlan" : "pop_vlan");
                break;
            case ModVlanVidAction mv:
                sb.Append("mod_vlan_vid:").Append(mv.Vid.ToString(CultureInfo.InvariantCulture));
                break;
            case NoteAction n:
                sb.Append("note:").Append(n.Hex);
                break;
            default:
                throw new ArgumentException("unknown action " + action, nameof(action));
        }
    }

    /// <summary>format_CT: ct(commit,table=N,zone=...,exec(...)).</summary>
    private static void Conntrack(StringBuilder sb, ConntrackAction ct)
    {
        sb.Append("ct(");
        int start = sb.Length;
        if (ct.Commit)
        {
            sb.Append("commit,");
        }

        if (ct.Table is byte t)
        {
            sb.Append("table=").Append(t.ToString(CultureInfo.InvariantCulture)).Append(',');
        }

        if (ct.ZoneSource is not null)
        {
            sb.Append("zone=");
            AppendSubfield(sb, ct.ZoneSource);
            sb.Append(',');
        }
        else if (ct.Zone != 0)
        {
            sb.Append("zone=").Append(ct.Zone.ToString(CultureInfo.InvariantCulture)).Append(',');
        }

        // format_CT prints a NAT action outside the exec() envelope.
        if (ct.Nat is not null)
        {
            NatSyntax.Append(sb, ct.Nat);
            sb.Append(',');
        }

        if (ct.Timeout is not null)
        {
            sb.Append("timeout=").Append(ct.Timeout).Append(',');
        }

        if (ct.Exec.Count > 0)
        {
            sb.Append("exec(");
            for (int i = 0; i < ct.Exec.Count; i++)
            {
                if (i > 0)
                {
                    sb.Append(',');
                }

                SetField(sb, ct.Exec[i]);
            }

            sb.Append("),");
        }

        if (sb.Length > start && sb[^1] == ',')
        {
            sb.Length--;
        }

        sb.Append(')');
    }

    private static void SetField(StringBuilder sb, SetFieldOfAction s)
    {
        switch (s.Spelling)
        {
            case SetFieldSpelling.Load:
                {
                    int offset = (int)UInt128.TrailingZeroCount(s.Mask);
                    int bits = (int)UInt128.PopCount(s.Mask);
                    sb.Append("load:");
                    FieldText.AppendHashHex(sb, s.Value >> offset);
                    sb.Append("->");
                    AppendSubfield(sb, new Subfield(s.Field, offset, bits));
                    return;
                }

            case SetFieldSpelling.ModDlSrc:
                sb.Append("mod_dl_src:").AppendMac((ulong)s.Value);
                return;
            case SetFieldSpelling.ModDlDst:
                sb.Append("mod_dl_dst:").AppendMac((ulong)s.Value);
                return;
            case SetFieldSpelling.ModNwSrc:
                sb.Append("mod_nw_src:").AppendIpv4((uint)s.Value);
                return;
            case SetFieldSpelling.ModNwDst:
                sb.Append("mod_nw_dst:").AppendIpv4((uint)s.Value);
                return;
            case SetFieldSpelling.ModNwTos:
                sb.Append("mod_nw_tos:").Append(((byte)s.Value).ToString(CultureInfo.InvariantCulture));
                return;
            case SetFieldSpelling.ModTpSrc:
                sb.Append("mod_tp_src:").Append(((ushort)s.Value).ToString(CultureInfo.InvariantCulture));
                return;
            case SetFieldSpelling.ModTpDst:
                sb.Append("mod_tp_dst:").Append(((ushort)s.Value).ToString(CultureInfo.InvariantCulture));
                return;
            default:
                sb.Append("set_field:");
                UInt128 fullMask = s.Field == OfFields.NwTos ? 0xfc : s.Field.AllOnes;
                FieldText.AppendValue(sb, s.Field, s.Value, s.Mask == fullMask ? s.Field.AllOnes : s.Mask);
                sb.Append("->").Append(s.Field.Name);
                return;
        }
    }

    /// <summary>mf_format_subfield: NAME[], NAME[N] or NAME[START..END].</summary>
    internal static void AppendSubfield(StringBuilder sb, Subfield sf)
    {
        sb.Append(sf.Field.NxmName ?? sf.Field.Name).Append('[');
        if (sf.Offset == 0 && sf.Bits == sf.Field.Width)
        {
            // whole field: NAME[]
        }
        else if (sf.Bits == 1)
        {
            sb.Append(sf.Offset.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            sb.Append(sf.Offset.ToString(CultureInfo.InvariantCulture)).Append("..")
              .Append((sf.Offset + sf.Bits - 1).ToString(CultureInfo.InvariantCulture));
        }

        sb.Append(']');
    }
}
