using System.Globalization;
using System.Text;
using Datapath.Actions;
using Datapath.Flow;

namespace Datapath.OpenFlow.Trace;

/// <summary>
/// Datapath actions in Open vSwitch's text form (lib/odp-util.c format_odp_actions):
/// "2", "ct(commit,zone=5)", "recirc(0x1)", "set(ipv4(src=10.0.0.9))", "push_vlan(vid=10,pcp=0)",
/// "pop_vlan", and "drop" for an empty list. Cold path.
/// </summary>
public static class DatapathActionText
{
    /// <param name="actions">The actions.</param>
    /// <param name="flow">The packet's key, to name the transport protocol of port rewrites.</param>
    public static string Format(ReadOnlySpan<DatapathAction> actions, in FlowKey flow)
    {
        if (actions.IsEmpty)
        {
            return "drop";
        }

        var sb = new StringBuilder();
        for (int i = 0; i < actions.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            Append(sb, in actions[i], in flow);
        }

        return sb.ToString();
    }

    private static void Append(StringBuilder sb, in DatapathAction a, in FlowKey flow)
    {
        var inv = CultureInfo.InvariantCulture;
        switch (a.Kind)
        {
            case ActionKind.Output:
                sb.Append(a.Port.ToString(inv));
                break;
            case ActionKind.Drop:
                sb.Append("drop");
                break;
            case ActionKind.Recirculate:
                sb.Append("recirc(").AppendHashHex(a.RecircId).Append(')');
                break;
            case ActionKind.Conntrack:
                Conntrack(sb, a.Ct);
                break;
            case ActionKind.PushVlan:
                sb.Append("push_vlan(");
                if (a.VlanTpid != EtherTypes.Vlan8021Q)
                {
                    sb.Append("tpid=").AppendHex4(a.VlanTpid).Append(',');
                }

                sb.Append("vid=").Append((a.VlanTci & 0x0fff).ToString(inv)).Append(",pcp=").Append((a.VlanTci >> 13).ToString(inv)).Append(')');
                break;
            case ActionKind.PopVlan:
                sb.Append("pop_vlan");
                break;
            case ActionKind.Userspace:
                sb.Append("userspace(pid=0,cookie=").Append(a.UserspaceCookie.ToString(inv)).Append(')');
                break;
            case ActionKind.SetField:
                SetField(sb, a.Set, in flow);
                break;
            case ActionKind.CtClear:
                sb.Append("ct_clear");
                break;
            case ActionKind.CtGuard:
                // No Open vSwitch counterpart: a bypass flow's guard, with the recirculation it falls back to.
                sb.Append("ct_guard(recirc(").AppendHashHex(a.RecircId).Append("))");
                break;
        }
    }

    /// <summary>format_odp_conntrack_action: bare "ct" when there is nothing to say.</summary>
    private static void Conntrack(StringBuilder sb, in ConntrackArgs ct)
    {
        var inner = new StringBuilder();
        if (ct.Commit)
        {
            inner.Append("commit,");
        }

        if (ct.Zone != 0)
        {
            inner.Append("zone=").Append(ct.Zone.ToString(CultureInfo.InvariantCulture)).Append(',');
        }

        if (ct.MarkMask != 0)
        {
            inner.Append("mark=").AppendHashHex(ct.Mark);
            if (ct.MarkMask != uint.MaxValue)
            {
                inner.Append('/').AppendHashHex(ct.MarkMask);
            }

            inner.Append(',');
        }

        if (ct.LabelMask != UInt128.Zero)
        {
            inner.Append("label=").AppendHex128(ct.Label);
            if (ct.LabelMask != UInt128.MaxValue)
            {
                inner.Append('/').AppendHex128(ct.LabelMask);
            }

            inner.Append(',');
        }

        if (ct.TimeoutPolicy is not null)
        {
            inner.Append("timeout=").Append(ct.TimeoutPolicy).Append(',');
        }

        if (ct.Nat is not null)
        {
            Syntax.NatSyntax.Append(inner, ct.Nat);
            inner.Append(',');
        }

        sb.Append("ct");
        if (inner.Length > 0)
        {
            inner.Length--;
            sb.Append('(').Append(inner).Append(')');
        }
    }

    private static void SetField(StringBuilder sb, in SetFieldArgs s, in FlowKey flow)
    {
        bool v6 = flow.IsIpv6;
        string header;
        string field;
        switch (s.Target)
        {
            case SetFieldTarget.EthSrc: header = "eth"; field = "src"; break;
            case SetFieldTarget.EthDst: header = "eth"; field = "dst"; break;
            case SetFieldTarget.Ipv4Src: header = "ipv4"; field = "src"; break;
            case SetFieldTarget.Ipv4Dst: header = "ipv4"; field = "dst"; break;
            case SetFieldTarget.Ipv6Src: header = "ipv6"; field = "src"; break;
            case SetFieldTarget.Ipv6Dst: header = "ipv6"; field = "dst"; break;
            case SetFieldTarget.NwTos: header = v6 ? "ipv6" : "ipv4"; field = v6 ? "tclass" : "tos"; break;
            case SetFieldTarget.NwTtl: header = v6 ? "ipv6" : "ipv4"; field = v6 ? "hlimit" : "ttl"; break;
            default:
                header = flow.NwProto switch { IpProtocols.Udp => "udp", IpProtocols.Sctp => "sctp", _ => "tcp" };
                field = s.Target == SetFieldTarget.TpSrc ? "src" : "dst";
                break;
        }

        sb.Append("set(").Append(header).Append('(').Append(field).Append('=');
        switch (s.Target)
        {
            case SetFieldTarget.EthSrc or SetFieldTarget.EthDst:
                sb.AppendMac((ulong)s.Value);
                if ((ulong)s.Mask != 0xFFFF_FFFF_FFFFUL)
                {
                    sb.Append('/').AppendMac((ulong)s.Mask);
                }

                break;
            case SetFieldTarget.Ipv4Src or SetFieldTarget.Ipv4Dst:
                sb.AppendIpv4((uint)s.Value);
                if ((uint)s.Mask != uint.MaxValue)
                {
                    sb.Append('/').AppendIpv4((uint)s.Mask);
                }

                break;
            case SetFieldTarget.Ipv6Src or SetFieldTarget.Ipv6Dst:
                sb.AppendIpv6(s.Value);
                if (s.Mask != UInt128.MaxValue)
                {
                    sb.Append('/').AppendIpv6(s.Mask);
                }

                break;
            case SetFieldTarget.NwTos:
                sb.AppendHashHex((byte)s.Value);
                if ((byte)s.Mask != byte.MaxValue)
                {
                    sb.Append('/').AppendHashHex((byte)s.Mask);
                }

                break;
            case SetFieldTarget.NwTtl:
                sb.Append(((byte)s.Value).ToString(CultureInfo.InvariantCulture));
                break;
            default:
                sb.Append(((ushort)s.Value).ToString(CultureInfo.InvariantCulture));
                if ((ushort)s.Mask != ushort.MaxValue)
                {
                    sb.Append("/0x").Append(((ushort)s.Mask).ToString("x", CultureInfo.InvariantCulture));
                }

                break;
        }

        sb.Append("))");
    }
}
