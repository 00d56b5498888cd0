using System.CommandLine;
using System.Globalization;
using Host.Configuration;
using Host.MainJob;

namespace Host.Commands;

/// <summary>
/// `run [--config FILE] [--duration S]`: the main job. With no arguments, the embedded default:
/// the firewall of DESIGN.md between two generator ports carrying 1,000 connections both ways for
/// 10 seconds on all cores, a progress line each second on a terminal, and a summary at the end.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config") { Description = "A HOCON file layered over the embedded default (hocon/datapath.conf)." };
        var duration = new Option<double?>("--duration") { Description = "Seconds to run (overrides datapath.generator.duration)." };
        var pmds = new Option<int?>("--pmds") { Description = "PMD actors (overrides datapath.pmds)." };
        var connections = new Option<int?>("--connections") { Description = "Concurrent connections (overrides datapath.generator.connections)." };
        var bypass = BypassOption.Create();
        var control = new Option<string?>("--control") { Description = "The control socket (overrides datapath.control.socket; off: none)." };
        var metricsPort = new Option<int?>("--metrics-port") { Description = "Serve Prometheus metrics on 127.0.0.1 at this port (turns datapath.metrics on)." };
        var openFlowPort = new Option<int?>("--openflow-port") { Description = "OpenFlow clients on ptcp:PORT:127.0.0.1 (overrides datapath.openflow.listen-port)." };
        var controller = new Option<string[]>("--controller") { Description = "Connect the bridge to this OpenFlow controller, tcp:HOST:PORT (adds to datapath.openflow.controllers).", AllowMultipleArgumentsPerToken = false };
        var untilInterrupted = new Option<bool>("--until-interrupted") { Description = "Run until Ctrl+C (or SIGTERM), whatever the duration; then print the summary." };
        var format = ControlCommands.FormatOption();
        format.Description = "text (progress and tables) or json (the final summary as one JSON object, errors as JSON).";
        var command = new Command("run", "Run the firewall between two ports (generator, pcap or Linux interfaces) and print its statistics.") { config, duration, pmds, connections, bypass, control, metricsPort, openFlowPort, controller, untilInterrupted, format };
        command.SetAction(async (parse, stop) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            bool json = parse.GetValue(format) == "json";
            int Fail(string message, int code)
            {
                CommandError.Write(error, "run", message, json);
                return code;
            }

            try
            {
                var loaded = DatapathConfig.Load(parse.GetValue(config)?.FullName);
                if (CheckOptions(parse.GetValue(duration), parse.GetValue(pmds), parse.GetValue(connections)) is { } problem)
                {
                    return Fail(problem, 2);
                }

                loaded = Override(loaded, parse.GetValue(duration), parse.GetValue(pmds), parse.GetValue(connections));

                loaded = BypassOption.Apply(loaded, parse.GetValue(bypass));
                if (parse.GetValue(control) is { Length: > 0 } socket)
                {
                    loaded = loaded.With("datapath.control.socket", socket, "--control");
                }

                if (parse.GetValue(metricsPort) is { } port)
                {
                    if (port is < 1 or > 65535)
                    {
                        return Fail("--metrics-port must be 1 to 65535", 2);
                    }

                    loaded = loaded.With("datapath.metrics.enabled", "on", "--metrics-port").With("datapath.metrics.port", Text(port), "--metrics-port");
                }

                var settings = DatapathSettings.From(loaded);
                if (parse.GetValue(openFlowPort) is { } ofPort)
                {
                    if (ofPort is < 1 or > 65535)
                    {
                        return Fail("--openflow-port must be 1 to 65535", 2);
                    }

                    settings = settings with { OpenFlow = settings.OpenFlow with { ListenPort = ofPort } };
                }

                if (parse.GetValue(controller) is { Length: > 0 } targets)
                {
                    foreach (string target in targets)
                    {
                        try
                        {
                            OpenFlowSettings.ParseTarget(target);
                        }
                        catch (FormatException e)
                        {
                            return Fail("--controller: " + e.Message, 2);
                        }
                    }

                    settings = settings with { OpenFlow = settings.OpenFlow with { Controllers = [.. settings.OpenFlow.Controllers, .. targets] } };
                }

                string flowsText;
                try
                {
                    flowsText = settings.FlowsPath is null ? DatapathConfig.EmbeddedFirewallFlows() : FlowFileText.Read(settings.FlowsPath);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return Fail("datapath.flows: " + FileErrors.Describe(settings.FlowsPath!, e), 1);
                }

                var flowErrors = new StringWriter();
                if (!DumpFlowsCommand.TryLoad(flowsText, settings.FlowsPath ?? DatapathConfig.EmbeddedFlowsName, flowErrors, out var tables))
                {
                    if (json)
                    {
                        return Fail(flowErrors.ToString().TrimEnd().Replace('\n', ' '), 1);
                    }

                    error.Write(flowErrors.ToString());
                    return 1;
                }

                bool live = !json && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
                Action<JobProgress>? progress = live ? p => output.Write("\r" + JobReport.ProgressLine(p) + "   ") : null;
                var result = await FirewallJob.RunAsync(loaded.Config, settings, tables.AllRules().Select(r => r.Entry).ToList(), progress, parse.GetValue(untilInterrupted), stop, error).ConfigureAwait(false);
                if (live)
                {
                    output.WriteLine();
                }

                if (json)
                {
                    JobReport.WriteJson(result, output);
                }
                else
                {
                    JobReport.Write(result, output);
                }

                if (result.PortFailure is not null)
                {
                    return 1;
                }

                // Nothing went through: say so rather than print a summary of zeros and exit 0.
                if (result.Ledger.Received == 0 && settings.SystemPorts is null)
                {
                    return Fail(
                        string.Create(CultureInfo.InvariantCulture, $"no packet was received in {result.Elapsed.TotalSeconds:F1} s") + (settings.Pcap is null
                            ? string.Create(CultureInfo.InvariantCulture, $": too short for the generator to open its {settings.Generator.Profile.Connections} connections; give a longer --duration")
                            : ": the capture has no frame for ports 1 and 2"),
                        1);
                }

                // Fewer packets than the generator's connections: most never got one through, so the
                // rates above say nothing of a warmed-up datapath. (Not connections opened: that count
                // includes replacements opened as the run ended, before their first frame left.)
                int concurrent = settings.Generator.Profile.Connections;
                if (result.Ports.Traffic is not null && result.Ledger.Received < concurrent)
                {
                    CommandError.Write(
                        error,
                        "run",
                        string.Create(CultureInfo.InvariantCulture, $"warning: only {result.Ledger.Received} packets for {concurrent} connections in {result.Elapsed.TotalSeconds:F1} s: the run ended before its traffic warmed up; give a longer --duration or fewer --connections"),
                        json);
                }

                return 0;
            }
            catch (ConfigurationException e)
            {
                return Fail(e.Message, 2);
            }
            catch (Actors.Bridge.PortCommandException e)
            {
                return Fail(e.Message, 1);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Datapath.Packets.Pcap.PcapFormatException or Control.ControlSocketException or Metrics.MetricsEndpointException or System.Net.Sockets.SocketException)
            {
                return Fail(e.Message, 1);
            }
        });
        return command;
    }

    /// <summary>What is wrong with the options' values before they reach their keys, or null: NaN, infinities and non-positive values, which the keys' ranges would report in terms the user did not write.</summary>
    internal static string? CheckOptions(double? duration, int? pmds, int? connections)
    {
        if (duration is { } d && (!double.IsFinite(d) || d < 0.001 || d > MaxDurationSeconds))
        {
            return string.Create(CultureInfo.InvariantCulture, $"--duration must be 0.001 to {MaxDurationSeconds} seconds (datapath.generator.duration's range), not {d}");
        }

        if (pmds is < 1)
        {
            return "--pmds must be 1 or more (datapath.pmds: at most 1024)";
        }

        if (connections is < 1)
        {
            return "--connections must be 1 or more (datapath.generator.connections: at most 1000000)";
        }

        return null;
    }

    /// <summary>
    /// The options layered over their keys, so that the one reader checks their ranges and resolves
    /// what follows them (queues-per-port = 0 is one queue per PMD of --pmds).
    /// </summary>
    private static LoadedConfig Override(LoadedConfig config, double? duration, int? pmds, int? connections)
    {
        var result = config;
        if (duration is { } d)
        {
            // Whole milliseconds, the resolution the job's clock keeps anyway (checked finite and in range above).
            result = result.With("datapath.generator.duration", Text((long)Math.Ceiling(d * 1000)) + "ms", "--duration");
        }

        if (connections is { } c)
        {
            result = result.With("datapath.generator.connections", Text(c), "--connections");
        }

        if (pmds is { } p)
        {
            result = result.With("datapath.pmds", Text(p), "--pmds");
        }

        return result;
    }

    /// <summary>datapath.generator.duration's upper bound (one day).</summary>
    private const double MaxDurationSeconds = 86_400;

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
