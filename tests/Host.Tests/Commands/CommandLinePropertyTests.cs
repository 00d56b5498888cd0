using System.Globalization;
using Datapath.Tests.Support;

namespace Host.Tests.Commands;

/// <summary>
/// The command line is untrusted input: random option values (seeded, so a failure replays) give
/// either success or one clean error line naming the command, never an unhandled exception, a .NET
/// type name, a stack trace or the whole help page. The commands are run in-process with values
/// that finish fast: `run` always gets at least one value out of its bounds (a valid run is the
/// main-job tests' subject), the others run on the small icmp.pcap.
/// </summary>
public sealed class CommandLinePropertyTests
{
    private const int CasesPerSeed = 40;

    private static readonly string Capture = TestData.Capture("icmp.pcap");
    private static readonly string Flows = TestData.Capture("firewall.flows");

    public static TheoryData<int> Seeds() => new() { 1, 2, 3, 20261204, 424242 };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_option_values_give_success_or_one_clean_error_line(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < CasesPerSeed; i++)
        {
            string[] args = random.Next(6) switch
            {
                0 => Run(random),
                1 => Replay(random),
                2 => ["trace", Flows, "in_port=1,ip", "--ports", Value(random), .. Maybe(random, "--ct-next", Value(random))],
                3 => ["ct-pcap", Capture, Value(random)],
                4 => ["dump-flows", Value(random), "--target", "/nonexistent/ovs-actors.ctl", .. Maybe(random, "--format", random.Next(2) == 0 ? "json" : Value(random))],
                // Not `run`: a valid value there would start the main job.
                _ => [Pick(random, "replay", "trace", "parse-pcap", "ct-pcap", "dump-flows"), Pick(random, "--duration", "--pmds", "--connections", "--ports", "--pcap", "--bogus"), Value(random)],
            };

            AssertClean(args, seed, i);
        }
    }

    private static void AssertClean(string[] args, int seed, int index)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int exit;
        try
        {
            exit = Program.Run(args, output, error);
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"seed {seed} case {index}: {Show(args)} threw {e.GetType().Name}: {e.Message}");
        }

        string what = $"seed {seed} case {index}: {Show(args)} -> exit {exit}, stderr: {error}";
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (exit == 0)
        {
            Assert.True(lines.Length == 0, what);
            return;
        }

        Assert.True(exit is 1 or 2, what);
        Assert.True(lines.Length == 1, what);
        Assert.True(lines[0].StartsWith(args[0] + ": ", StringComparison.Ordinal) || lines[0].StartsWith("ovs-actors: ", StringComparison.Ordinal) || lines[0].StartsWith("{\"error\":", StringComparison.Ordinal), what);
        foreach (string leak in new[] { "System.", "Exception", "   at ", "Usage:", "Description:" })
        {
            Assert.False(lines[0].Contains(leak, StringComparison.Ordinal), what);
        }
    }

    /// <summary>`run` with at least one of --duration, --pmds, --connections out of its key's bounds (or not a number).</summary>
    private static string[] Run(Random random)
    {
        var options = new List<(string Option, string Value)>
        {
            ("--duration", random.Next(2) == 0 ? Value(random) : "0.5"),
            ("--pmds", random.Next(2) == 0 ? Value(random) : "1"),
            ("--connections", random.Next(2) == 0 ? Value(random) : "10"),
        };
        int bad = random.Next(options.Count);
        options[bad] = (options[bad].Option, bad switch
        {
            0 => Pick(random, "NaN", "Infinity", "-Infinity", "1e300", "-1", "0", "86401", "1e-9", "abc", string.Empty),
            1 => Pick(random, "0", "-1", "1025", "2000", "5000", "2147483647", "99999999999", "1.5", "x"),
            _ => Pick(random, "0", "-5", "1000001", "2147483647", "-2147483648", "1e6", "y"),
        });
        var args = new List<string> { "run" };
        foreach (var (option, value) in options.OrderBy(_ => random.Next()))
        {
            args.Add(option);
            args.Add(value);
        }

        args.AddRange(Maybe(random, "--format", Pick(random, "text", "json", Value(random))));
        args.AddRange(Maybe(random, "--metrics-port", Value(random)));
        return [.. args];
    }

    /// <summary>`replay --inline` (no actors to start, whatever --pmds says) on icmp.pcap with random values.</summary>
    private static string[] Replay(Random random) =>
    [
        "replay", "--pcap", random.Next(8) == 0 ? Value(random) : Capture, "--inline",
        .. Maybe(random, "--pmds", Value(random)),
        .. Maybe(random, "--port1-mac", Pick(random, "02:00:00:00:00:01", "02:00:00:00:00:02", Value(random))),
        .. Maybe(random, "--port2-mac", Pick(random, "02:00:00:00:00:02", "02:00:00:00:00:01", Value(random))),
        .. Maybe(random, "--flush-conntrack", Value(random)),
        .. Maybe(random, "--bypass", Pick(random, "off", "megaflow", "per-connection", "emc-only", Value(random))),
        .. Maybe(random, "--verdicts", Pick(random, "/nonexistent-dir/v.txt", "/", Value(random))),
    ];

    /// <summary>A value a user might type, or one meant to break a parser.</summary>
    private static string Value(Random random) => random.Next(12) switch
    {
        0 => random.Next().ToString(CultureInfo.InvariantCulture),
        1 => (-random.Next()).ToString(CultureInfo.InvariantCulture),
        2 => random.NextInt64(long.MinValue, long.MaxValue).ToString(CultureInfo.InvariantCulture),
        3 => (random.NextDouble() * Math.Pow(10, random.Next(-20, 320))).ToString("R", CultureInfo.InvariantCulture),
        4 => Pick(random, "NaN", "Infinity", "-Infinity", "1e300", "-0", "0x10", "1_000", "١٢", "+5", " 7 "),
        5 => random.Next(0, 70000).ToString(CultureInfo.InvariantCulture),
        6 => string.Join(',', Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(-2, 70000).ToString(CultureInfo.InvariantCulture))),
        7 => string.Empty,
        8 => new string((char)random.Next(33, 127), random.Next(1, 2000)),
        9 => Pick(random, "abc", "-", "--", "--help-me", "zone=5", "all", "trk,est", "02:00:00:00:00:0g", "/", "/tmp"),
        10 => random.Next(0, 33).ToString(CultureInfo.InvariantCulture),
        _ => string.Concat(Enumerable.Range(0, random.Next(1, 20)).Select(_ => (char)random.Next(1, 0x2FFF))),
    };

    private static string[] Maybe(Random random, string option, string value) => random.Next(2) == 0 ? [] : [option, value];

    private static string Pick(Random random, params string[] values) => values[random.Next(values.Length)];

    private static string Show(string[] args) => string.Join(' ', args.Select(a => a.Length > 40 ? a[..40] + "..." : a).Select(a => $"'{a}'"));
}
