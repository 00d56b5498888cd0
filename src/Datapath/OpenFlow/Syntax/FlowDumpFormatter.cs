using System.Globalization;
using System.Text;

namespace Datapath.OpenFlow.Syntax;

/// <summary>
/// Writes flows as ovs-ofctl dump-flows does (Open vSwitch's ofputil_flow_stats_format):
/// "cookie=0x0, duration=1.234s, table=1, n_packets=0, n_bytes=0, [idle_timeout=N, ][hard_timeout=N, ]MATCH actions=ACTIONS".
/// Without statistics (--no-stats), cookie and table are printed only when not zero. Cold path.
/// </summary>
public static class FlowDumpFormatter
{
    /// <summary>A flow without statistics, in the form add-flows reads.</summary>
    public static string FormatEntry(FlowEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var sb = new StringBuilder(128);
        Append(sb, entry, stats: null);
        return sb.ToString();
    }

    /// <summary>A flow with its statistics.</summary>
    public static string FormatWithStats(FlowEntry entry, long packets, long bytes, TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var sb = new StringBuilder(160);
        Append(sb, entry, (packets, bytes, duration));
        return sb.ToString();
    }

    public static void Append(StringBuilder sb, FlowEntry entry, (long Packets, long Bytes, TimeSpan Duration)? stats)
    {
        ArgumentNullException.ThrowIfNull(sb);
        ArgumentNullException.ThrowIfNull(entry);
        var inv = CultureInfo.InvariantCulture;
        if (stats is not null || entry.Cookie != 0)
        {
            sb.Append("cookie=0x").Append(entry.Cookie.ToString("x", inv)).Append(", ");
        }

        if (stats is { } s)
        {
            sb.Append("duration=");
            AppendDuration(sb, s.Duration);
            sb.Append(", ");
        }

        if (stats is not null || entry.Table != 0)
        {
            sb.Append("table=").Append(entry.Table.ToString(inv)).Append(", ");
        }

        if (stats is { } s2)
        {
            sb.Append("n_packets=").Append(s2.Packets.ToString(inv)).Append(", ");
            sb.Append("n_bytes=").Append(s2.Bytes.ToString(inv)).Append(", ");
        }

        if (entry.IdleTimeout != 0)
        {
            sb.Append("idle_timeout=").Append(entry.IdleTimeout.ToString(inv)).Append(", ");
        }

        if (entry.HardTimeout != 0)
        {
            sb.Append("hard_timeout=").Append(entry.HardTimeout.ToString(inv)).Append(", ");
        }

        AppendFlags(sb, entry.Flags);
        int before = sb.Length;
        MatchFormatter.Append(sb, in entry.Match.Value, in entry.Match.Mask, entry.Priority, megaflow: false);
        if (sb.Length != before)
        {
            sb.Append(' ');
        }

        sb.Append("actions=");
        ActionFormatter.AppendList(sb, entry.Actions);
    }

    /// <summary>The flow_mod flags a rule keeps, each followed by a space, as ovs-ofctl prints them.</summary>
    private static void AppendFlags(StringBuilder sb, FlowModFlags flags)
    {
        if ((flags & FlowModFlags.SendFlowRemoved) != 0)
        {
            sb.Append("send_flow_rem ");
        }

        if ((flags & FlowModFlags.CheckOverlap) != 0)
        {
            sb.Append("check_overlap ");
        }

        if ((flags & FlowModFlags.ResetCounts) != 0)
        {
            sb.Append("reset_counts ");
        }

        if ((flags & FlowModFlags.NoPacketCounts) != 0)
        {
            sb.Append("no_packet_counts ");
        }

        if ((flags & FlowModFlags.NoByteCounts) != 0)
        {
            sb.Append("no_byte_counts ");
        }
    }

    /// <summary>ofp_print_duration at millisecond precision: "12s" or "12.345s".</summary>
    public static void AppendDuration(StringBuilder sb, TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(sb);
        long ms = Math.Max(0, (long)duration.TotalMilliseconds);
        sb.Append((ms / 1000).ToString(CultureInfo.InvariantCulture));
        if (ms % 1000 != 0)
        {
            sb.Append('.').Append((ms % 1000).ToString("000", CultureInfo.InvariantCulture));
        }

        sb.Append('s');
    }
}
