using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Bench.Firewall;
using Datapath.Bypass;
using Datapath.OpenFlow;
using Host.Commands;
using Host.Configuration;
using Traffic;

namespace Bench.Commands;

/// <summary>
/// `bench`: the firewall between two ports carrying N established bidirectional connections of
/// 64-byte UDP (or TCP) frames at full speed (closed loop), on --pmds PMDs; prints the rates and
/// counters of the timed window as a table, or as one JSON object with --json. `bench --matrix`
/// runs every connection count x PMD count with the bypass off and on, --reps alternating runs
/// each, and writes medians, JSON and a chart to --out.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config") { Description = "A HOCON file layered over the embedded default (hocon/datapath.conf)." };
        var duration = new Option<double>("--duration") { Description = "Seconds of the timed window of each run.", DefaultValueFactory = _ => 3 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds of steady traffic before the timed window (after the handshakes; the JIT's final code for the hot paths needs about 1.5 s of it on one core).", DefaultValueFactory = _ => 2 };
        var pmds = new Option<int>("--pmds") { Description = "PMD actors.", DefaultValueFactory = _ => 1 };
        var connections = new Option<int>("--connections") { Description = "Established bidirectional connections.", DefaultValueFactory = _ => 100 };
        var protocol = new Option<string>("--protocol") { Description = "udp or tcp.", DefaultValueFactory = _ => "udp" };
        protocol.AcceptOnlyFromAmong("udp", "tcp");
        var bypass = BypassOption.Create();
        var pmdThreads = new Option<string>("--pmd-threads")
        {
            Description = "on: each PMD on a thread of its own, fed by a port actor per PMD on that thread (datapath.pmd-dedicated-threads; two cores then beat one); off: every actor on the shared pool.",
            DefaultValueFactory = _ => "on",
        };
        pmdThreads.AcceptOnlyFromAmong("on", "off");
        var pmdCpuMask = new Option<string?>("--pmd-cpu-mask")
        {
            Description = "Pin PMD i's thread to the mask's i-th CPU (datapath.pmd-cpu-mask, hexadecimal as Open vSwitch's: 0x2 is CPU 1); needs --pmd-threads on.",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the table." };
        var nat = new Option<string?>("--nat") { Description = "The NAT cell: snat runs the firewall with every outbound connection source-translated (its own flow table; the server answers the translated address)." };
        nat.AcceptOnlyFromAmong(NatFirewall.Name);
        var matrix = new Option<bool>("--matrix") { Description = "Run every --connections-list x --pmds-list cell, bypass off and on, --reps times each." };
        var connectionsList = new Option<string>("--connections-list") { Description = "Matrix: connection counts, comma-separated.", DefaultValueFactory = _ => "1,100,10000,1000000" };
        var pmdsList = new Option<string>("--pmds-list") { Description = "Matrix: PMD counts, comma-separated.", DefaultValueFactory = _ => "1,2" };
        var reps = new Option<int>("--reps") { Description = "Matrix: runs per cell and bypass setting (alternating off, on).", DefaultValueFactory = _ => 5 };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Matrix: folder for bench-matrix.json and bench-matrix.png.", DefaultValueFactory = _ => new DirectoryInfo("bench-results") };
        var command = new Command("bench", "Measure the firewall's packet rate with N established connections (bypass on or off).")
        {
            config, duration, warmup, pmds, connections, protocol, bypass, pmdThreads, pmdCpuMask, json, matrix, connectionsList, pmdsList, reps, outDir, nat,
        };
        command.SetAction(async (parse, _) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var proto = parse.GetValue(protocol) == "tcp" ? TrafficProtocol.Tcp : TrafficProtocol.Udp;
            // Seconds checked before they become a TimeSpan (NaN, infinities and 1e300 do not convert): at most a day, as datapath.generator.duration.
            double runSeconds = parse.GetValue(duration), warmSeconds = parse.GetValue(warmup);
            string? outOfBounds =
                !double.IsFinite(runSeconds) || runSeconds is < 0.001 or > 86_400 ? "--duration must be 0.001 to 86400 seconds"
                : !double.IsFinite(warmSeconds) || warmSeconds is < 0 or > 86_400 ? "--warmup must be 0 to 86400 seconds"
                : parse.GetValue(pmds) is < 1 or > 1024 ? "--pmds must be 1 to 1024 (datapath.pmds)"
                : parse.GetValue(reps) < 1 ? "--reps must be positive"
                : parse.GetValue(connections) is < 1 or > EstablishedStreams.MaxConnections ? $"--connections must be 1 to {EstablishedStreams.MaxConnections}"
                : null;
            if (outOfBounds is not null)
            {
                error.WriteLine("bench: " + outOfBounds);
                return 2;
            }

            var runTime = TimeSpan.FromSeconds(runSeconds);
            var warmTime = TimeSpan.FromSeconds(warmSeconds);

            string? natCell = parse.GetValue(nat);
            if (natCell is not null && (parse.GetValue(matrix) || parse.GetValue(connections) > EstablishedStreams.MaxSnatConnections))
            {
                error.WriteLine($"bench: --nat runs one cell (no --matrix), with at most {EstablishedStreams.MaxSnatConnections} connections (one client port each)");
                return 2;
            }

            try
            {
                var loaded = DatapathConfig.Load(parse.GetValue(config)?.FullName).With("datapath.pmd-dedicated-threads", parse.GetValue(pmdThreads)!, "--pmd-threads");
                if (parse.GetValue(pmdCpuMask) is { } mask)
                {
                    loaded = loaded.With("datapath.pmd-cpu-mask", mask, "--pmd-cpu-mask");
                }

                var settings = DatapathSettings.From(loaded);
                string flowsText = natCell is not null ? NatFirewall.Flows
                    : settings.FlowsPath is null ? DatapathConfig.EmbeddedFirewallFlows() : await File.ReadAllTextAsync(settings.FlowsPath).ConfigureAwait(false);
                string flowsName = natCell is not null ? "bench --nat " + natCell : settings.FlowsPath ?? DatapathConfig.EmbeddedFlowsName;
                if (!DumpFlowsCommand.TryLoad(flowsText, flowsName, error, out var tables))
                {
                    return 1;
                }

                var flows = tables.AllRules().Select(r => r.Entry).ToList();
                if (parse.GetValue(matrix))
                {
                    if (parse.GetValue(bypass) is not null)
                    {
                        error.WriteLine("bench: --matrix runs the bypass both off and on; leave --bypass out");
                        return 2;
                    }

                    if (!TryParseList(parse.GetValue(connectionsList)!, EstablishedStreams.MaxConnections, out var counts) || !TryParseList(parse.GetValue(pmdsList)!, 1024, out var pmdCounts))
                    {
                        error.WriteLine("bench: --connections-list and --pmds-list are comma-separated positive numbers (connections up to " + EstablishedStreams.MaxConnections.ToString(CultureInfo.InvariantCulture) + ")");
                        return 2;
                    }

                    var options = new MatrixOptions(proto, counts, pmdCounts, parse.GetValue(reps), runTime, warmTime, parse.GetValue(outDir)!);
                    bool asJson = parse.GetValue(json);
                    var report = await BenchMatrix.RunAsync(loaded.Config, (p, on) => For(loaded, p, on ? OnMode(loaded) : "off", "--matrix"), flows, options, asJson ? error : output).ConfigureAwait(false);
                    if (asJson)
                    {
                        output.WriteLine(JsonSerializer.Serialize(report, BenchReport.Json));
                    }
                    else
                    {
                        BenchMatrix.WriteTable(report, output);
                        output.WriteLine($"wrote {Path.Combine(options.Out.FullName, BenchMatrix.JsonName)} and {Path.Combine(options.Out.FullName, BenchMatrix.ChartName)}");
                    }

                    return 0;
                }

                var single = For(loaded, parse.GetValue(pmds), parse.GetValue(bypass), "--bypass");
                var result = await BenchRunner.RunAsync(loaded.Config, single, flows, new BenchOptions(proto, parse.GetValue(connections), runTime, warmTime, natCell)).ConfigureAwait(false);
                if (parse.GetValue(json))
                {
                    output.WriteLine(BenchReport.ToJson(result));
                }
                else
                {
                    BenchReport.WriteTable(result, output);
                }

                return 0;
            }
            catch (ConfigurationException e)
            {
                error.WriteLine("bench: " + e.Message);
                return 2;
            }
            catch (Exception e) when (e is BenchFailedException or TimeoutException or IOException or UnauthorizedAccessException)
            {
                error.WriteLine("bench: " + e.Message);
                return 1;
            }
        });
        return command;
    }

    /// <summary>
    /// The settings of a run: <paramref name="pmds"/> PMDs (one queue per port each, unless the
    /// configuration fixed the queues) and the bypass as given (null: as configured), layered over
    /// the configuration and read as the product reads it.
    /// </summary>
    private static DatapathSettings For(LoadedConfig config, int pmds, string? bypass, string bypassOrigin)
    {
        var run = config.With("datapath.pmds", pmds.ToString(CultureInfo.InvariantCulture), "--pmds");
        return DatapathSettings.From(bypass is null ? run : run.With("datapath.recirc-bypass", bypass, bypassOrigin));
    }

    /// <summary>The matrix's "on" lane: the configured bypass mode, or the default mode (megaflow) when the configuration turns it off.</summary>
    private static string OnMode(LoadedConfig config)
    {
        var configured = DatapathSettings.From(config).Pmd.Core.Bypass;
        return (configured == BypassMode.Off ? BypassMode.Megaflow : configured).Name();
    }

    private static bool TryParseList(string text, int max, out IReadOnlyList<int> values)
    {
        var list = new List<int>();
        values = list;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out int value) || value < 1 || value > max)
            {
                return false;
            }

            list.Add(value);
        }

        return list.Count > 0;
    }
}
