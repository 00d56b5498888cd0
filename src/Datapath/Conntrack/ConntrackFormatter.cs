using System.Text;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Conntrack;

/// <summary>
/// Text forms of conntrack state that users know from Open vSwitch: ct_state flags as
/// `ovstest test-conntrack pcap` prints them (lib/flow.c format_flags with '|'), and connection
/// entries as `ovs-appctl dpctl/dump-conntrack` prints them (lib/ct-dpif.c ct_dpif_format_entry,
/// not verbose, without statistics). Cold path.
/// </summary>
public static class ConntrackFormatter
{
    private static readonly string[] TcpStateNames =
        ["CLOSED", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT_1", "CLOSING", "LAST_ACK", "FIN_WAIT_2", "TIME_WAIT"];

    /// <summary>The flags `|`-joined in bit order (new est rel rpl inv trk snat dnat), or "0" when none.</summary>
    public static StringBuilder AppendState(StringBuilder sb, CtState state)
    {
        ArgumentNullException.ThrowIfNull(sb);
        return sb.AppendFlags((uint)state, OdpText.CtStates, '|');
    }

    public static string FormatState(CtState state) => AppendState(new StringBuilder(), state).ToString();

    /// <summary>
    /// One dump-conntrack line, e.g.
    /// <c>tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=43210,dport=8080),reply=(src=10.0.0.2,dst=10.0.0.1,sport=8080,dport=43210),protoinfo=(state=ESTABLISHED)</c>.
    /// As in OVS, zone, mark and labels appear only when non-zero; the reply tuple of a translated
    /// connection shows the translation. With <paramref name="nowMs"/> (dump-conntrack -s) the
    /// seconds left before expiry follow the zone, as ct_dpif_format_entry prints them with statistics
    /// (the userspace tracker keeps no packet counters or timestamps, so nothing else is added).
    /// </summary>
    public static StringBuilder AppendEntry(StringBuilder sb, in ConnectionSnapshot entry, long? nowMs = null)
    {
        ArgumentNullException.ThrowIfNull(sb);
        var key = entry.Key;
        AppendProtocol(sb, key.Protocol);
        sb.Append(",orig=(");
        AppendTuple(sb, in key);
        sb.Append("),reply=(");
        var reply = entry.ReplyKey;
        AppendTuple(sb, in reply);
        sb.Append(')');
        if (key.Zone != 0)
        {
            sb.Append(",zone=").AppendDecimal(key.Zone);
        }

        if (nowMs is { } now)
        {
            // conn_to_ct_dpif_entry: whole seconds left, rounded down, never negative.
            long left = entry.ExpirationMs - now;
            sb.Append(",timeout=").AppendDecimal((uint)Math.Clamp(left / 1000, 0, uint.MaxValue));
        }

        if (entry.Mark != 0)
        {
            sb.Append(",mark=").AppendDecimal(entry.Mark);
        }

        if (entry.Label != UInt128.Zero)
        {
            sb.Append(",labels=").AppendHex128(entry.Label);
        }

        if (key.Protocol == IpProtocols.Tcp)
        {
            sb.Append(",protoinfo=(state=").Append(TcpStateNames[(int)CoalesceTcpState(entry.TcpOrigState, entry.TcpReplyState)]).Append(')');
        }

        return sb;
    }

    /// <summary>A TCP state as Open vSwitch names it (ct_dpif_tcp_state_string).</summary>
    public static string TcpStateName(TcpState state) => TcpStateNames[(int)state];

    public static string FormatEntry(in ConnectionSnapshot entry, long? nowMs = null) => AppendEntry(new StringBuilder(), in entry, nowMs).ToString();

    /// <summary>
    /// The one state OVS prints for two peers: the larger, with FIN_WAIT_2 shown as TIME_WAIT and
    /// SYN_RECV as ESTABLISHED, as the kernel would (ct-dpif.c coalesce_tcp_state).
    /// </summary>
    public static TcpState CoalesceTcpState(TcpState orig, TcpState reply)
    {
        var state = orig > reply ? orig : reply;
        return state switch
        {
            TcpState.FinWait2 => TcpState.TimeWait,
            TcpState.SynRecv => TcpState.Established,
            _ => state,
        };
    }

    private static void AppendProtocol(StringBuilder sb, byte protocol)
    {
        string? name = protocol switch
        {
            IpProtocols.Icmp => "icmp",
            IpProtocols.Icmpv6 => "icmpv6",
            IpProtocols.Tcp => "tcp",
            IpProtocols.Udp => "udp",
            IpProtocols.Sctp => "sctp",
            136 => "udplite",
            33 => "dccp",
            2 => "igmp",
            _ => null,
        };
        if (name is null)
        {
            sb.AppendDecimal(protocol);
        }
        else
        {
            sb.Append(name);
        }
    }

    private static void AppendTuple(StringBuilder sb, in ConntrackKey key)
    {
        if (key.IsIpv6)
        {
            sb.Append("src=").AppendIpv6(key.Src).Append(",dst=").AppendIpv6(key.Dst);
        }
        else
        {
            sb.Append("src=").AppendIpv4((uint)key.Src).Append(",dst=").AppendIpv4((uint)key.Dst);
        }

        if (key.Protocol is IpProtocols.Icmp or IpProtocols.Icmpv6)
        {
            // ICMP codes are always 0 for tracked echo-style exchanges.
            sb.Append(",id=").AppendDecimal(key.SrcPort).Append(",type=").AppendDecimal(key.SrcIcmpType).Append(",code=0");
        }
        else
        {
            sb.Append(",sport=").AppendDecimal(key.SrcPort).Append(",dport=").AppendDecimal(key.DstPort);
        }
    }
}
