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
        var command = new Command("run", "Run the firewall between two ports (generator, pcap or Linux interfaces) and print its statistics.") { config, duration, pmds, connections, bypass, control, metricsPort, openFlowPort, controller, untilInterrupted };
        command.SetAction(async (parse, stop) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var loaded = DatapathConfig.Load(parse.GetValue(config)?.FullName);
                if (!TryOverride(loaded, parse.GetValue(duration), parse.GetValue(pmds), parse.GetValue(connections), error, out loaded))
                {
                    return 2;
                }

                loaded = BypassOption.Apply(loaded, parse.GetValue(bypass));
                if (parse.GetValue(control) is { Length: > 0 } socket)
                {
                    loaded = loaded.With("datapath.control.socket", socket, "--control");
                }

                if (parse.GetValue(metricsPort) is { } port)
                {
                    if (port is < 1 or > 65535)
                    {
                        error.WriteLine("run: --metrics-port must be 1 to 65535");
                        return 2;
                    }

                    loaded = loaded.With("datapath.metrics.enabled", "on", "--metrics-port").With("datapath.metrics.port", Text(port), "--metrics-port");
                }

                var settings = DatapathSettings.From(loaded);
                if (parse.GetValue(openFlowPort) is { } ofPort)
                {
                    if (ofPort is < 1 or > 65535)
                    {
                        error.WriteLine("run: --openflow-port must be 1 to 65535");
                        return 2;
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
                            error.WriteLine("run: --controller: " + e.Message);
                            return 2;
                        }
                    }

                    settings = settings with { OpenFlow = settings.OpenFlow with { Controllers = [.. settings.OpenFlow.Controllers, .. targets] } };
                }

                string flowsText = settings.FlowsPath is null ? DatapathConfig.EmbeddedFirewallFlows() : await File.ReadAllTextAsync(settings.FlowsPath).ConfigureAwait(false);
                if (!DumpFlowsCommand.TryLoad(flowsText, settings.FlowsPath ?? DatapathConfig.EmbeddedFlowsName, error, out var tables))
                {
                    return 1;
                }

                bool live = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
                Action<JobProgress>? progress = live ? p => output.Write("\r" + JobReport.ProgressLine(p) + "   ") : null;
                var result = await FirewallJob.RunAsync(loaded.Config, settings, tables.AllRules().Select(r => r.Entry).ToList(), progress, parse.GetValue(untilInterrupted), stop, error).ConfigureAwait(false);
                if (live)
                {
                    output.WriteLine();
                }

                JobReport.Write(result, output);
                return result.PortFailure is null ? 0 : 1;
            }
            catch (ConfigurationException e)
            {
                error.WriteLine("run: " + e.Message);
                return 2;
            }
            catch (Actors.Bridge.PortCommandException e)
            {
                error.WriteLine("run: " + e.Message);
                return 1;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Datapath.Packets.Pcap.PcapFormatException or Control.ControlSocketException or Metrics.MetricsEndpointException or System.Net.Sockets.SocketException)
            {
                error.WriteLine("run: " + e.Message);
                return 1;
            }
        });
        return command;
    }

    /// <summary>
    /// The options layered over their keys, so that the one reader checks their ranges and resolves
    /// what follows them (queues-per-port = 0 is one queue per PMD of --pmds).
    /// </summary>
    private static bool TryOverride(LoadedConfig config, double? duration, int? pmds, int? connections, TextWriter error, out LoadedConfig result)
    {
        result = config;
        if (duration is <= 0 || pmds is < 1 || connections is < 1)
        {
            error.WriteLine("run: --duration, --pmds and --connections must be positive");
            return false;
        }

        if (duration is { } d)
        {
            // Whole milliseconds, the resolution the job's clock keeps anyway; an absurd value stays
            // absurd (and out of range for the reader) rather than overflowing.
            result = result.With("datapath.generator.duration", Text((long)Math.Ceiling(Math.Min(d, 1e9) * 1000)) + "ms", "--duration");
        }

        if (connections is { } c)
        {
            result = result.With("datapath.generator.connections", Text(c), "--connections");
        }

        if (pmds is { } p)
        {
            result = result.With("datapath.pmds", Text(p), "--pmds");
        }

        return true;
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
