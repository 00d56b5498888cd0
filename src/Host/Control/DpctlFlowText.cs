using System.Globalization;
using System.Text;
using Actors.Pmd;

namespace Host.Control;

/// <summary>A megaflow line of `ovs-appctl dpctl/dump-flows` (lib/dpif.c format_dpif_flow, without --more).</summary>
internal static class DpctlFlowText
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>MATCH, packets:N, bytes:N, used:T[, flags:F], actions:ACTIONS</summary>
    public static void Append(StringBuilder sb, MegaflowDescription flow)
    {
        sb.Append(flow.Match)
            .Append(C, $", packets:{flow.Packets}, bytes:{flow.Bytes}, used:")
            .Append(flow.UsedMsAgo is { } ms ? (ms / 1000.0).ToString("F3", C) + "s" : "never");
        if (flow.TcpFlags != 0)
        {
            sb.Append(", flags:");
            AppendTcpFlags(sb, flow.TcpFlags);
        }

        sb.Append(", actions:").Append(flow.Actions);
    }

    /// <summary>packet_format_tcp_flags: one letter per flag in Open vSwitch's order (S F P R U . E C N).</summary>
    public static void AppendTcpFlags(StringBuilder sb, ushort flags)
    {
        (ushort Bit, string Name)[] letters =
        [
            (0x002, "S"), (0x001, "F"), (0x008, "P"), (0x004, "R"), (0x020, "U"), (0x010, "."),
            (0x040, "E"), (0x080, "C"), (0x100, "N"), (0x200, "[200]"), (0x400, "[400]"), (0x800, "[800]"),
        ];
        foreach (var (bit, name) in letters)
        {
            if ((flags & bit) != 0)
            {
                sb.Append(name);
            }
        }
    }
}
