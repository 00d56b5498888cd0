using System.Globalization;
using System.Text.RegularExpressions;

namespace Host.Control;

/// <summary>One line of ovs-ofctl dump-flows split into its statistics, match and actions (the `--format json` of dump-flows).</summary>
internal sealed partial record FlowDumpLine(int Table, long? NPackets, long? NBytes, string? Duration, string Match, string Actions)
{
    public static FlowDumpLine Parse(string line)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        string rest = line.Trim();
        for (var m = StatField().Match(rest); m.Success; m = StatField().Match(rest))
        {
            fields[m.Groups["name"].Value] = m.Groups["value"].Value;
            rest = rest[m.Length..];
        }

        int actions = rest.IndexOf("actions=", StringComparison.Ordinal);
        string match = actions < 0 ? rest : rest[..actions].Trim();
        return new FlowDumpLine(
            fields.TryGetValue("table", out var t) ? int.Parse(t, CultureInfo.InvariantCulture) : 0,
            fields.TryGetValue("n_packets", out var p) ? long.Parse(p, CultureInfo.InvariantCulture) : null,
            fields.TryGetValue("n_bytes", out var b) ? long.Parse(b, CultureInfo.InvariantCulture) : null,
            fields.GetValueOrDefault("duration"),
            match,
            actions < 0 ? string.Empty : rest[(actions + "actions=".Length)..]);
    }

    // The comma-space separated fields ovs-ofctl prints before the match.
    [GeneratedRegex(@"^(?<name>cookie|duration|table|n_packets|n_bytes|idle_timeout|hard_timeout|idle_age|hard_age)=(?<value>[^,\s]+), ")]
    private static partial Regex StatField();
}
