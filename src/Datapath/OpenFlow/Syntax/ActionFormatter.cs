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
                    ReservedPort.Table => "TABLE",
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
            case ModVlanVidAction { PushIfNeeded: true } mv:
                sb.Append("mod_vlan_vid:").Append(mv.Vid.ToString(CultureInfo.InvariantCulture));
                break;
            case ModVlanVidAction mv:
                sb.Append("set_field:").Append((mv.Vid | FlowKey.VlanPresent).ToString(CultureInfo.InvariantCulture)).Append("->vlan_vid");
                break;
            case ModVlanPcpAction { PushIfNeeded: true } mp:
                sb.Append("mod_vlan_pcp:").Append(mp.Pcp.ToString(CultureInfo.InvariantCulture));
                break;
            case ModVlanPcpAction mp:
                sb.Append("set_field:").Append(mp.Pcp.ToString(CultureInfo.InvariantCulture)).Append("->vlan_pcp");
                break;
            case ControllerAction c:
                Controller(sb, c);
                break;
            case MoveAction m:
                sb.Append("move:");
                AppendSubfield(sb, m.Source);
                sb.Append("->");
                AppendSubfield(sb, m.Destination);
                break;
            case ExitAction:
                sb.Append("exit");
                break;
            case NoteAction n:
                sb.Append("note:").Append(n.Hex);
                break;
            default:
                throw new ArgumentException("unknown action " + action, nameof(action));
        }
    }

    /// <summary>The packet-in reasons' names in controller(reason=...).</summary>
    public static string ReasonName(Wire.PacketInReason reason) => reason switch
    {
        Wire.PacketInReason.NoMatch => "no_match",
        Wire.PacketInReason.Action => "action",
        Wire.PacketInReason.InvalidTtl => "invalid_ttl",
        Wire.PacketInReason.ActionSet => "action_set",
        Wire.PacketInReason.Group => "group",
        _ => "packet_out",
    };

    /// <summary>format_CONTROLLER: CONTROLLER:N for the plain form, controller(...) with what differs from it otherwise.</summary>
    private static void Controller(StringBuilder sb, ControllerAction c)
    {
        if (c.Reason == Wire.PacketInReason.Action && c.ControllerId == 0)
        {
            sb.Append("CONTROLLER:").Append(c.MaxLength.ToString(CultureInfo.InvariantCulture));
            return;
        }

        sb.Append("controller(");
        int start = sb.Length;
        if (c.Reason != Wire.PacketInReason.Action)
        {
            sb.Append("reason=").Append(ReasonName(c.Reason)).Append(',');
        }

        if (c.MaxLength != ControllerAction.WholePacket)
        {
            sb.Append("max_len=").Append(c.MaxLength.ToString(CultureInfo.InvariantCulture)).Append(',');
        }

        if (c.ControllerId != 0)
        {
            sb.Append("id=").Append(c.ControllerId.ToString(CultureInfo.InvariantCulture)).Append(',');
        }

        if (sb.Length > start)
        {
            sb.Length--;
        }

        sb.Append(')');
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
            case SetFieldSpelling.ModNwTtl:
                sb.Append("mod_nw_ttl:").Append(((byte)s.Value).ToString(CultureInfo.InvariantCulture));
                return;
            case SetFieldSpelling.WriteMetadata:
                sb.Append("write_metadata:");
                FieldText.AppendHashHex(sb, s.Value);
                if (s.Mask != s.Field.AllOnes)
                {
                    sb.Append('/');
                    FieldText.AppendHashHex(sb, s.Mask);
                }

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
