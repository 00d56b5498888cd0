using System.Globalization;
using System.Text;
using Datapath.Flow;

namespace Datapath.Conntrack;

/// <summary>One zone's line of ct-get-limits.</summary>
public readonly record struct ZoneLimitReport(ushort Zone, int Limit, int Count);

/// <summary>What ct-set-limits asks: an optional default and zone limits.</summary>
public sealed record ZoneLimitsRequest(int? DefaultLimit, IReadOnlyList<(ushort Zone, int Limit)> Zones);

/// <summary>
/// The conntrack commands of <c>ovs-appctl dpctl/...</c> as library functions (lib/dpctl.c and
/// lib/ct-dpif.c): their argument syntax and their output, word for word, so that the control
/// channel only has to route them. <see cref="Run"/> applies one to a single table (the inline
/// datapath); a sharded tracker sums counts and concatenates dumps before formatting. Errors are
/// <see cref="FormatException"/> with Open vSwitch's message. Cold path.
/// </summary>
public static class DpctlConntrack
{
    /// <summary>The commands <see cref="Run"/> knows, without the dpctl/ prefix.</summary>
    public static IReadOnlyList<string> Commands { get; } =
    [
        "dump-conntrack", "flush-conntrack", "ct-stats-show", "ct-set-maxconns", "ct-get-maxconns", "ct-get-nconns",
        "ct-enable-tcp-seq-chk", "ct-disable-tcp-seq-chk", "ct-get-tcp-seq-chk", "ct-set-limits", "ct-get-limits", "ct-del-limits",
    ];

    /// <summary>
    /// Runs <paramref name="command"/> (a name of <see cref="Commands"/>) with its arguments on
    /// <paramref name="table"/>, at <paramref name="nowMs"/> (timeouts of dump-conntrack -s).
    /// </summary>
    /// <returns>The text Open vSwitch prints.</returns>
    /// <exception cref="FormatException">Bad arguments, with Open vSwitch's message.</exception>
    public static string Run(ConnectionTable table, string command, IReadOnlyList<string> args, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(args);
        var rest = args.Where(a => a is not ("-s" or "--statistics" or "-m" or "--more")).ToList();
        switch (command)
        {
            case "dump-conntrack":
                {
                    ushort? zone = rest.Count > 0 ? ParseZone(rest[^1]) : null;
                    bool stats = args.Contains("-s") || args.Contains("--statistics");
                    var sb = new StringBuilder();
                    foreach (var entry in table.Snapshot(zone, nowMs))
                    {
                        ConntrackFormatter.AppendEntry(sb, in entry, stats ? nowMs : null).Append('\n');
                    }

                    return sb.ToString();
                }

            case "flush-conntrack":
                table.Flush(ConntrackFlushFilter.Parse(rest));
                return string.Empty;
            case "ct-stats-show":
                {
                    bool verbose = rest.Remove("verbose") | args.Contains("-m") | args.Contains("--more");
                    ushort? zone = rest.Count > 0 ? ParseZone(rest[^1]) : null;
                    return StatsShow(table.Snapshot(zone, nowMs), verbose);
                }

            case "ct-set-maxconns":
                table.MaxConnections = rest.Count == 1 && int.TryParse(rest[0], NumberStyles.None, CultureInfo.InvariantCulture, out int max)
                    ? max
                    : throw new FormatException("maxconns missing or malformed");
                return "setting maxconns successful";
            case "ct-get-maxconns":
                return Line(table.MaxConnections);
            case "ct-get-nconns":
                return Line(table.Count);
            case "ct-enable-tcp-seq-chk":
            case "ct-disable-tcp-seq-chk":
                table.TcpSequenceCheck = command == "ct-enable-tcp-seq-chk";
                return TcpSequenceCheckSet(table.TcpSequenceCheck);
            case "ct-get-tcp-seq-chk":
                return TcpSequenceCheckState(table.TcpSequenceCheck);
            case "ct-set-limits":
                {
                    var request = ParseSetLimits(rest);
                    if (request.DefaultLimit is { } limit)
                    {
                        table.DefaultZoneLimit = limit;
                    }

                    foreach (var (zone, zoneLimit) in request.Zones)
                    {
                        table.SetZoneLimit(zone, zoneLimit);
                    }

                    return string.Empty;
                }

            case "ct-del-limits":
                foreach (ushort zone in ParseZoneList(rest.Count == 1 ? rest[0] : throw new FormatException("invalid arguments")))
                {
                    table.RemoveZoneLimit(zone);
                }

                return string.Empty;
            case "ct-get-limits":
                {
                    IEnumerable<ushort> zones = rest.Count > 0 ? ParseZoneList(rest[0]) : table.ZoneLimits.Keys.Order();
                    return Limits(table.DefaultZoneLimit, zones.Select(z => new ZoneLimitReport(z, table.ZoneLimitOf(z), table.CountInZone(z)))) + "\n";
                }

            default:
                throw new FormatException($"unknown conntrack command {command}");
        }
    }

    /// <summary>ct-stats-show: the total, then each protocol with connections (TCP per state when verbose).</summary>
    public static string StatsShow(IEnumerable<ConnectionSnapshot> entries, bool verbose) => StatsShow(ConntrackProtocolCounts.Of(entries), verbose);

    /// <summary>ct-stats-show from counts (a sharded tracker adds its shards' counts first).</summary>
    public static string StatsShow(ConntrackProtocolCounts counts, bool verbose)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Connections Stats:\n    Total: {counts.Total}\n");
        if (counts.Tcp != 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  TCP: {counts.Tcp}\n");
            if (verbose)
            {
                sb.Append("    Conn per TCP states:\n");
                for (int state = 0; state < counts.TcpStates.Length; state++)
                {
                    if (counts.TcpStates[state] != 0)
                    {
                        sb.Append("\t\t").Append(ConntrackFormatter.TcpStateName((TcpState)state))
                          .Append(CultureInfo.InvariantCulture, $" : {counts.TcpStates[state]}\n");
                    }
                }
            }
        }

        Count(sb, "UDP", counts.Udp);
        Count(sb, "UDPLITE", counts.UdpLite);
        Count(sb, "SCTP", counts.Sctp);
        Count(sb, "ICMP", counts.Icmp);
        Count(sb, "DCCP", counts.Dccp);
        Count(sb, "IGMP", counts.Igmp);
        Count(sb, "Other", counts.Other);
        return sb.ToString();
    }

    /// <summary>ct_dpif_format_zone_limits (ct-get-limits), without the final newline dpctl adds.</summary>
    public static string Limits(int defaultLimit, IEnumerable<ZoneLimitReport> zones)
    {
        ArgumentNullException.ThrowIfNull(zones);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"default limit={defaultLimit}");
        foreach (var zone in zones)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\nzone={zone.Zone},limit={zone.Limit},count={zone.Count}");
        }

        return sb.ToString();
    }

    /// <summary>ct-enable-tcp-seq-chk / ct-disable-tcp-seq-chk's answer.</summary>
    public static string TcpSequenceCheckSet(bool enabled) => $"{(enabled ? "enabling" : "disabling")} TCP sequence checking successful";

    /// <summary>ct-get-tcp-seq-chk's answer.</summary>
    public static string TcpSequenceCheckState(bool enabled) => $"TCP sequence checking: {(enabled ? "enabled" : "disabled")}\n";

    /// <summary>ct-set-limits [default=N] [zone=Z,limit=N]... (ct_dpif_parse_zone_limit_tuple).</summary>
    public static ZoneLimitsRequest ParseSetLimits(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        int? defaultLimit = null;
        int i = 0;
        if (args.Count > 0 && args[0].StartsWith("default=", StringComparison.Ordinal))
        {
            defaultLimit = int.TryParse(args[0].AsSpan(8), NumberStyles.None, CultureInfo.InvariantCulture, out int d) ? d : throw new FormatException("invalid default limit");
            i++;
        }

        var zones = new List<(ushort, int)>();
        for (; i < args.Count; i++)
        {
            ushort? zone = null;
            int? limit = null;
            foreach (string pair in args[i].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = pair.IndexOf('=', StringComparison.Ordinal);
                string key = eq < 0 ? pair : pair[..eq];
                string value = eq < 0 ? string.Empty : pair[(eq + 1)..];
                if (value.Length == 0)
                {
                    throw new FormatException($"field {key} missing value");
                }

                if (key == "zone")
                {
                    zone = ushort.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ushort z) ? z : throw new FormatException("failed to parse field zone");
                }
                else if (key == "limit")
                {
                    limit = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int l) ? l : throw new FormatException("failed to parse field limit");
                }
                else
                {
                    throw new FormatException($"invalid zone limit field: {key}");
                }
            }

            if (zone is null || limit is null)
            {
                throw new FormatException("failed to parse zone limit");
            }

            zones.Add((zone.Value, limit.Value));
        }

        return new ZoneLimitsRequest(defaultLimit, zones);
    }

    /// <summary>zone=N1[,N2]... of ct-get-limits and ct-del-limits (parse_ct_limit_zones).</summary>
    public static IReadOnlyList<ushort> ParseZoneList(string arg)
    {
        ArgumentNullException.ThrowIfNull(arg);
        if (!arg.StartsWith("zone=", StringComparison.Ordinal))
        {
            throw new FormatException($"invalid argument {arg}");
        }

        var zones = new List<ushort>();
        foreach (string part in arg[5..].Split(','))
        {
            zones.Add(ushort.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out ushort z) ? z : throw new FormatException("invalid zone"));
        }

        return zones;
    }

    /// <summary>zone=N of dump-conntrack and ct-stats-show.</summary>
    public static ushort? ParseZone(string arg) =>
        arg.StartsWith("zone=", StringComparison.Ordinal) && ushort.TryParse(arg.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out ushort z)
            ? z
            : throw new FormatException($"invalid argument {arg}");

    private static string Line(int value) => value.ToString(CultureInfo.InvariantCulture) + "\n";

    private static void Count(StringBuilder sb, string name, int count)
    {
        if (count != 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {name}: {count}\n");
        }
    }
}
