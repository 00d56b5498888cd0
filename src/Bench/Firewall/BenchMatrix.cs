using System.Globalization;
using System.Text.Json;
using Akka.Configuration;
using Datapath.OpenFlow;
using Host.Configuration;
using Spectre.Console;
using Traffic;

namespace Bench.Firewall;

/// <summary>What `bench --matrix` measures: every connection count x PMD count, bypass off and on, <see cref="Reps"/> times each.</summary>
internal sealed record MatrixOptions(
    TrafficProtocol Protocol,
    IReadOnlyList<int> Connections,
    IReadOnlyList<int> Pmds,
    int Reps,
    TimeSpan Duration,
    TimeSpan Warmup,
    DirectoryInfo Out);

/// <summary>The medians of one connection count and PMD count, off against on.</summary>
internal sealed record MatrixCell(
    string Protocol,
    int Connections,
    int Pmds,
    double OffMpps,
    double OnMpps,
    double Ratio,
    double OffEmcHitRate,
    double OnEmcHitRate,
    long OnBypassHits,
    IReadOnlyList<double> OffRuns,
    IReadOnlyList<double> OnRuns);

/// <summary>What the matrix writes as JSON: how it was run, the medians, and every run.</summary>
internal sealed record MatrixReport(
    string Protocol,
    int Reps,
    double DurationSeconds,
    double WarmupSeconds,
    int Cores,
    IReadOnlyList<MatrixCell> Cells,
    IReadOnlyList<BenchResult> Runs);

/// <summary>
/// `bench --matrix`: runs the bench for every cell, each run on a fresh actor system, bypass off
/// and on alternating (off, on, off, on, ...) so that drift of the machine touches both alike,
/// after one discarded run that pays for the JIT; then the medians and their ratio as a table,
/// bench-matrix.json and bench-matrix.png in the output folder.
/// </summary>
internal static class BenchMatrix
{
    public const string JsonName = "bench-matrix.json";
    public const string ChartName = "bench-matrix.png";

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <param name="settingsFor">The datapath settings of a run with that many PMDs and the bypass on or off.</param>
    /// <param name="progress">One line per run as it ends.</param>
    public static async Task<MatrixReport> RunAsync(
        Config config,
        Func<int, bool, DatapathSettings> settingsFor,
        IReadOnlyList<FlowEntry> flows,
        MatrixOptions options,
        TextWriter progress)
    {
        var runs = new List<BenchResult>();
        int total = options.Connections.Count * options.Pmds.Count * options.Reps * 2;
        var single = new BenchOptions(options.Protocol, 0, options.Duration, options.Warmup);

        // The first run of a process pays for the JIT; it is run once and thrown away.
        await BenchRunner.RunAsync(config, settingsFor(options.Pmds[0], false), flows, single with { Connections = Math.Min(options.Connections[0], 10_000) }).ConfigureAwait(false);
        await progress.WriteLineAsync("[0] discarded JIT warm-up run").ConfigureAwait(false);
        foreach (int connections in options.Connections)
        {
            foreach (int pmds in options.Pmds)
            {
                for (int rep = 0; rep < options.Reps; rep++)
                {
                    foreach (bool bypass in new[] { false, true })
                    {
                        var result = await BenchRunner.RunAsync(config, settingsFor(pmds, bypass), flows, single with { Connections = connections }).ConfigureAwait(false);
                        runs.Add(result);
                        await progress.WriteLineAsync(string.Create(
                            C,
                            $"[{runs.Count}/{total}] {result.Protocol} connections={connections} pmds={pmds} bypass={result.Bypass} rep={rep + 1}: {result.Mpps:F3} Mpps, emc {result.EmcHitRate:P1}, bypass hits {result.BypassHits}, drops {result.Drops}")).ConfigureAwait(false);
                    }
                }
            }
        }

        var report = new MatrixReport(
            BenchOptions.NameOf(options.Protocol),
            options.Reps,
            options.Duration.TotalSeconds,
            options.Warmup.TotalSeconds,
            Environment.ProcessorCount,
            Cells(runs),
            runs);
        options.Out.Create();
        await File.WriteAllTextAsync(Path.Combine(options.Out.FullName, JsonName), JsonSerializer.Serialize(report, new JsonSerializerOptions(BenchReport.Json) { WriteIndented = true })).ConfigureAwait(false);
        BenchChart.Write(report, Path.Combine(options.Out.FullName, ChartName));
        return report;
    }

    /// <summary>Medians per (connections, PMDs) in the order the runs were made.</summary>
    public static IReadOnlyList<MatrixCell> Cells(IReadOnlyList<BenchResult> runs) => runs
        .GroupBy(r => (r.Connections, r.Pmds))
        .Select(g =>
        {
            var off = g.Where(r => r.Bypass == "off").ToList();
            var on = g.Where(r => r.Bypass != "off").ToList();
            double offMpps = Median(off.Select(r => r.Mpps));
            double onMpps = Median(on.Select(r => r.Mpps));
            return new MatrixCell(
                g.First().Protocol,
                g.Key.Connections,
                g.Key.Pmds,
                offMpps,
                onMpps,
                offMpps == 0 ? 0 : onMpps / offMpps,
                Median(off.Select(r => r.EmcHitRate)),
                Median(on.Select(r => r.EmcHitRate)),
                (long)Median(on.Select(r => (double)r.BypassHits)),
                off.Select(r => r.Mpps).ToList(),
                on.Select(r => r.Mpps).ToList());
        })
        .ToList();

    public static void WriteTable(MatrixReport report, TextWriter output)
    {
        var table = new Table().Title(string.Create(C, $"bench --matrix: {report.Protocol}, medians of {report.Reps} run(s) of {report.DurationSeconds:F1} s per cell and setting (off and on alternating), {report.Cores} cores"));
        foreach (var column in new[] { "connections", "pmds", "mpps off", "mpps on", "on/off", "emc off", "emc on", "bypass hits on" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (var cell in report.Cells)
        {
            table.AddRow(BenchReport.Cells(
                cell.Connections, cell.Pmds, cell.OffMpps.ToString("F3", C), cell.OnMpps.ToString("F3", C), cell.Ratio.ToString("F2", C) + "x",
                cell.OffEmcHitRate.ToString("P1", C), cell.OnEmcHitRate.ToString("P1", C), cell.OnBypassHits));
        }

        BenchReport.Console(output).Write(table);
    }

    /// <summary>The middle value (the mean of the two middle ones for an even count); 0 for none.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return 0;
        }

        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
