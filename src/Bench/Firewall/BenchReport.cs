using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Bench.Firewall;

/// <summary>The bench's words: one run as a table or as one JSON object, and the console the tables are written on.</summary>
internal static class BenchReport
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>snake_case names, as the `--json` contract spells them.</summary>
    public static JsonSerializerOptions Json { get; } = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string ToJson(BenchResult result) => JsonSerializer.Serialize(result, Json);

    public static void WriteTable(BenchResult r, TextWriter output)
    {
        var table = new Table().Title(string.Create(C, $"bench: {r.Seconds:F1} s after a {r.WarmupSeconds:F1} s warm-up"));
        foreach (var column in new[] { "mpps rx", "mpps tx", "pmds", "connections", "protocol", "bypass", "emc_hit_rate", "bypass_hits", "recirculations", "upcalls", "drops", "ct invalid", "ct created" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        table.AddRow(Cells(
            r.RxMpps.ToString("F3", C), r.TxMpps.ToString("F3", C), r.Pmds, r.Connections, r.Protocol, r.Bypass,
            r.EmcHitRate.ToString("P1", C), r.BypassHits, r.Recirculations, r.Upcalls, r.Drops, r.CtInvalid, r.CtCreated));
        Console(output).Write(table);
    }

    /// <summary>A console on <paramref name="output"/> (plain text when it is not a terminal), wide enough for the tables.</summary>
    public static IAnsiConsole Console(TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
        });
        console.Profile.Width = 180;
        return console;
    }

    public static IRenderable[] Cells(params object[] values) =>
        values.Select(v => (IRenderable)new Text(Convert.ToString(v, C) ?? string.Empty)).ToArray();
}
