using System.Globalization;
using System.Text.RegularExpressions;

namespace Host.Tests.Support;

/// <summary>Reads the numbers out of the main job's summary tables (Spectre.Console box drawing).</summary>
public static partial class SummaryTables
{
    /// <summary>
    /// The numbers of the one row whose first cell is <paramref name="first"/>, looking only after
    /// <paramref name="section"/> when given (e.g. "ports (dump-ports)"); each cell's leading digits.
    /// </summary>
    public static long[] Row(string report, string first, string? section = null)
    {
        string text = section is null ? report : report[report.IndexOf(section, StringComparison.Ordinal)..];
        var rows = text.ReplaceLineEndings("\n").Split('\n')
            .Select(line => line.Split('│', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Where(cells => cells.Length > 1 && cells[0] == first)
            .ToList();
        var row = Assert.Single(rows);
        return row.Skip(1).Select(c => long.Parse(NumberPrefix().Match(c).Value, CultureInfo.InvariantCulture)).ToArray();
    }

    [GeneratedRegex(@"^\d+")]
    private static partial Regex NumberPrefix();
}
