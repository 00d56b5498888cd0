using System.Globalization;
using ScottPlot;

namespace Bench.Firewall;

/// <summary>
/// The matrix as grouped bars (ScottPlot): one group per connection count, in it one pair of bars
/// (bypass off, on) per PMD count, each "on" bar labelled with its on/off ratio.
/// </summary>
internal static class BenchChart
{
    private const int Width = 1000;
    private const int Height = 560;

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    // Off light, on dark; one hue per PMD count.
    private static readonly (Color Off, Color On)[] Palette =
    [
        (Color.FromHex("#9ecae1"), Color.FromHex("#08519c")),
        (Color.FromHex("#fdae6b"), Color.FromHex("#a63603")),
        (Color.FromHex("#a1d99b"), Color.FromHex("#006d2c")),
        (Color.FromHex("#bcbddc"), Color.FromHex("#54278f")),
    ];

    public static void Write(MatrixReport report, string path)
    {
        var connections = report.Cells.Select(c => c.Connections).Distinct().Order().ToArray();
        var pmds = report.Cells.Select(c => c.Pmds).Distinct().Order().ToArray();
        int barsPerGroup = 2 * pmds.Length;
        double groupWidth = barsPerGroup + 1;
        var plot = new Plot();
        var bars = new List<Bar>();
        foreach (var cell in report.Cells)
        {
            int group = Array.IndexOf(connections, cell.Connections);
            int pmd = Array.IndexOf(pmds, cell.Pmds);
            var (off, on) = Palette[pmd % Palette.Length];
            double x = (group * groupWidth) + (2 * pmd);
            bars.Add(new Bar { Position = x, Value = cell.OffMpps, FillColor = off, Size = 0.9 });
            bars.Add(new Bar { Position = x + 1, Value = cell.OnMpps, FillColor = on, Size = 0.9, Label = cell.Ratio.ToString("F2", C) + "x" });
        }

        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 11;
        for (int pmd = 0; pmd < pmds.Length; pmd++)
        {
            var (off, on) = Palette[pmd % Palette.Length];
            string name = pmds[pmd] == 1 ? "1 PMD" : $"{pmds[pmd]} PMDs";
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = name + ", bypass off", FillColor = off });
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = name + ", bypass on", FillColor = on });
        }

        plot.ShowLegend(Alignment.UpperRight);
        var ticks = connections.Select((_, i) => (i * groupWidth) + ((barsPerGroup - 1) / 2.0)).ToArray();
        plot.Axes.Bottom.SetTicks(ticks, connections.Select(n => n.ToString("N0", C)).ToArray());
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.XLabel("established connections");
        plot.YLabel("Mpps (received, both ports)");
        plot.Title(string.Create(C, $"{report.Protocol.ToUpperInvariant()} firewall, 64-byte frames: medians of {report.Reps} run(s) of {report.DurationSeconds:F1} s, off/on alternating ({report.Cores} cores)"));
        plot.SavePng(path, Width, Height);
    }
}
