using System.CommandLine;
using Actors.Cluster;
using Actors.Conntrack;
using Actors.Node;
using Actors.Ports;
using Akka.Actor;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Translation;
using Datapath.Packets.Pcap;
using Datapath.Pipeline;
using Datapath.Replay;
using Host.Configuration;

namespace Host.Commands;

/// <summary>
/// `replay --pcap FILE [--pcap FILE...] [--flows FLOWFILE] [--port1-mac MAC] [--port2-mac MAC] [--verdicts FILE | --verdicts-dir DIR]`:
/// frames enter port 1 or 2 by source MAC (others are reported as skipped), strictly in capture
/// order, each finished before the next, with the datapath clock following the capture; one
/// verdict line per frame in the format of captures/expected/*.verdict. It runs on the actor
/// datapath (PMD actors, conntrack shard actors) unless `--inline` asks for the single-threaded
/// reference. The default flow table is the embedded firewall (hocon/firewall.flows). Several
/// captures (`--pcap` again) each run as if alone, their verdicts in DIR/NAME.verdict
/// (`--verdicts-dir`); with `--nodes 2` the two processes start once for all of them.
/// </summary>
internal static class ReplayCommand
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(10);

    public static Command Create()
    {
        var pcap = new Option<FileInfo[]>("--pcap") { Description = "A classic pcap file (Ethernet link type); again for more captures, each replayed as if alone (with --verdicts-dir).", Required = true };

        // An empty path cannot become a FileInfo; for a list System.CommandLine says so only when the
        // value is read, by throwing, so it is refused here with the other parse errors.
        pcap.Validators.Add(result =>
        {
            if (result.Tokens.Any(token => token.Value.Length == 0))
            {
                result.AddError("--pcap: no file named (an empty path)");
            }
        });
        var flows = new Option<FileInfo?>("--flows") { Description = "Flows in ovs-ofctl add-flows syntax (default: the embedded firewall)." };
        var mac1 = new Option<string>("--port1-mac") { Description = "Source MAC of the frames that enter port 1.", DefaultValueFactory = _ => "02:00:00:00:00:01" };
        var mac2 = new Option<string>("--port2-mac") { Description = "Source MAC of the frames that enter port 2.", DefaultValueFactory = _ => "02:00:00:00:00:02" };
        var verdicts = new Option<FileInfo?>("--verdicts") { Description = "Write the verdicts to this file instead of standard output." };
        var verdictsDir = new Option<DirectoryInfo?>("--verdicts-dir") { Description = "Write each capture's verdicts to DIR/NAME.verdict (NAME: the capture's file name without .pcap)." };
        var config = new Option<FileInfo?>("--config") { Description = "A HOCON file layered over the embedded default." };
        var pmds = new Option<int?>("--pmds") { Description = "PMD actors (overrides datapath.pmds)." };
        var inline = new Option<bool>("--inline") { Description = "Run the single-threaded reference datapath instead of the actors." };
        var dump = new Option<bool>("--dump-conntrack") { Description = "After the replay, print the connection table (dpctl/dump-conntrack) and per-shard counts." };
        var bypass = BypassOption.Create();
        var flush = new Option<string?>("--flush-conntrack") { Description = "After the replay (before any dump), flush the connection table: all zones, or the zone given (dpctl/flush-conntrack [zone]).", Arity = ArgumentArity.ZeroOrOne };
        var txDir = new Option<DirectoryInfo?>("--tx-pcap-dir") { Description = "Write the frames that left each port to DIR/port1.pcap and DIR/port2.pcap (classic pcap, each frame stamped with its input frame's time; --inline)." };
        var nodes = new Option<int>("--nodes") { Description = "Datapath processes: 1, or 2 (a cluster of two processes on 127.0.0.1: port 1's frames enter the first, port 2's the second).", DefaultValueFactory = _ => 1 };
        var statistics = new Option<bool>("--statistics", "-s") { Description = "With --dump-conntrack, print each entry's seconds to expiry on the capture clock (dpctl/dump-conntrack -s; --inline)." };
        var command = new Command("replay", "Replay a capture through the datapath and print a verdict per frame.")
        {
            pcap, flows, mac1, mac2, verdicts, verdictsDir, config, pmds, inline, dump, flush, bypass, txDir, statistics, nodes,
        };
        command.SetAction(async (parse, _) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var flushResult = parse.GetResult(flush);
            if (!TryFlushZone(flushResult is null ? null : parse.GetValue(flush) ?? "all", error, out var flushZone))
            {
                return 2;
            }

            var captures = parse.GetValue(pcap)!;
            var options = new Options(
                captures[0], parse.GetValue(flows), parse.GetValue(mac1)!, parse.GetValue(mac2)!, parse.GetValue(verdicts),
                parse.GetValue(config), parse.GetValue(pmds), parse.GetValue(inline), parse.GetValue(dump), flushZone, parse.GetValue(bypass))
            {
                TxPcapDir = parse.GetValue(txDir),
                Statistics = parse.GetValue(statistics),
                Nodes = parse.GetValue(nodes),
                Captures = captures,
                VerdictsDir = parse.GetValue(verdictsDir),
            };
            return await RunAsync(options, output, error).ConfigureAwait(false);
        });
        return command;
    }

    /// <param name="Flush">Null: no flush; <see cref="FlushZone.All"/> or one zone.</param>
    internal sealed record Options(FileInfo Pcap, FileInfo? Flows, string Port1Mac, string Port2Mac, FileInfo? Verdicts, FileInfo? Config, int? Pmds, bool Inline, bool DumpConntrack, FlushZone? Flush = null, string? Bypass = null)
    {
        /// <summary>Where to write what left each port (port1.pcap, port2.pcap), or null.</summary>
        public DirectoryInfo? TxPcapDir { get; init; }

        /// <summary>Dump entries with their seconds to expiry (dpctl/dump-conntrack -s).</summary>
        public bool Statistics { get; init; }

        /// <summary>Datapath processes (--nodes): 1, or 2 for <see cref="TwoNodeReplay"/>.</summary>
        public int Nodes { get; init; } = 1;

        /// <summary>Every --pcap, in order (<see cref="Pcap"/> is the first); null: <see cref="Pcap"/> alone.</summary>
        public IReadOnlyList<FileInfo>? Captures { get; init; }

        /// <summary>Where each capture's verdicts go (NAME.verdict), instead of standard output or --verdicts.</summary>
        public DirectoryInfo? VerdictsDir { get; init; }

        /// <summary>The captures to replay, in order.</summary>
        public IReadOnlyList<FileInfo> AllCaptures => Captures is { Count: > 0 } captures ? captures : [Pcap];
    }

    /// <summary>What --flush-conntrack flushes: every zone (Zone null) or one.</summary>
    internal sealed record FlushZone(ushort? Zone)
    {
        public static FlushZone All { get; } = new((ushort?)null);
    }

    private static bool TryFlushZone(string? text, TextWriter error, out FlushZone? zone)
    {
        zone = null;
        if (text is null)
        {
            return true;
        }

        if (text == "all")
        {
            zone = FlushZone.All;
            return true;
        }

        if (ushort.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ushort z))
        {
            zone = new FlushZone(z);
            return true;
        }

        error.WriteLine($"replay: --flush-conntrack takes a zone (0-65535), not '{text}'");
        return false;
    }

    internal static async Task<int> RunAsync(Options options, TextWriter output, TextWriter error)
    {
        if (!FlowKey.TryParseMac(options.Port1Mac, out ulong mac1) || !FlowKey.TryParseMac(options.Port2Mac, out ulong mac2))
        {
            error.WriteLine("replay: a MAC address is six hex bytes separated by colons, e.g. 02:00:00:00:00:01");
            return 2;
        }

        if (mac1 == mac2)
        {
            // Every frame would enter port 1: the replay would say nothing of port 2.
            error.WriteLine($"replay: --port1-mac and --port2-mac are the same ({options.Port1Mac}); each port needs its own");
            return 2;
        }

        foreach (var capture in options.AllCaptures)
        {
            if (!File.Exists(capture.FullName))
            {
                error.WriteLine("replay: --pcap: " + (Directory.Exists(capture.FullName) ? $"{capture} is a directory, not a capture" : $"{capture}: no such file"));
                return 1;
            }
        }

        if (CheckCaptureOptions(options) is { } refused)
        {
            error.WriteLine("replay: " + refused);
            return 2;
        }

        if (options.Verdicts is not null && FileErrors.CheckWritable(options.Verdicts.FullName) is { } unwritable)
        {
            error.WriteLine("replay: --verdicts: " + unwritable);
            return 1;
        }

        if (options.Pmds is < 1)
        {
            error.WriteLine("replay: --pmds must be 1 or more");
            return 2;
        }

        if (options.Nodes is < 1 or > 2 || (options.Nodes == 2 && options.Inline))
        {
            error.WriteLine("replay: --nodes is 1 or 2 (2 runs on the actors, not --inline)");
            return 2;
        }

        if (!options.Inline && (options.TxPcapDir is not null || options.Statistics))
        {
            // The actor replay port does not record its transmissions yet (issue 13, phase B).
            error.WriteLine("replay: --tx-pcap-dir and --statistics need --inline for now");
            return 2;
        }

        bool loaded = options.Flows is null
            ? DumpFlowsCommand.TryLoad(DatapathConfig.EmbeddedFirewallFlows(), DatapathConfig.EmbeddedFlowsName, error, out var tables)
            : DumpFlowsCommand.TryLoad(options.Flows, error, "replay", out tables);
        if (!loaded)
        {
            return 1;
        }

        try
        {
            var config = LoadConfig(options.Config, options.Bypass, options.Pmds);
            var settings = DatapathSettings.From(config);
            var ports = new ReplayPorts(mac1, mac2);
            // The verdicts go to a file beside --verdicts, which replaces it only once the replay
            // succeeded: a bad capture leaves the previous verdicts as they were. A device or FIFO
            // is written as it is (see OutputPath).
            string? target = options.Verdicts?.FullName;
            string? pending = target is not null && OutputPath.IsReplaceable(target) ? target + ".partial" : null;
            var writer = target is null ? output : FileErrors.CreateForOption("--verdicts", pending ?? target, () => new StreamWriter(pending ?? target));
            bool done = false;
            try
            {
                if (options.VerdictsDir is { } directory)
                {
                    await RunIntoDirectoryAsync(options, directory, tables, config, settings, ports, output).ConfigureAwait(false);
                }
                else
                {
                    await RunOneAsync(options, tables, config, settings, ports, writer, output).ConfigureAwait(false);
                }

                done = true;
            }
            finally
            {
                if (target is not null)
                {
                    await writer.DisposeAsync().ConfigureAwait(false);
                }

                if (pending is not null)
                {
                    if (done)
                    {
                        File.Move(pending, target!, overwrite: true);
                    }
                    else
                    {
                        File.Delete(pending);
                    }
                }
            }

            return 0;
        }
        catch (ConfigurationException e)
        {
            error.WriteLine("replay: " + e.Message);
            return 2;
        }
        catch (PcapFormatException e)
        {
            error.WriteLine("replay: " + e.Message);
            return 1;
        }
        catch (OutputFileException e)
        {
            error.WriteLine("replay: " + e.Message);
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine("replay: " + (e is FileNotFoundException or UnauthorizedAccessException ? FileErrors.Describe(options.Pcap.ToString(), e) : e.Message));
            return 1;
        }
    }

    /// <summary>Why the capture options cannot go together, or null: several captures need --verdicts-dir, and take no per-capture output.</summary>
    private static string? CheckCaptureOptions(Options options)
    {
        var captures = options.AllCaptures;
        if (options.VerdictsDir is not null && options.Verdicts is not null)
        {
            return "--verdicts and --verdicts-dir are one or the other";
        }

        if (captures.Count == 1)
        {
            return null;
        }

        if (options.VerdictsDir is null)
        {
            return "more than one --pcap writes its verdicts to --verdicts-dir DIR (DIR/NAME.verdict each)";
        }

        if (options.DumpConntrack || options.Flush is not null || options.TxPcapDir is not null)
        {
            return "--dump-conntrack, --flush-conntrack and --tx-pcap-dir take one --pcap";
        }

        var names = captures.Select(VerdictName).ToList();
        return names.Distinct(StringComparer.Ordinal).Count() == names.Count ? null : "two captures of one name would write one verdict file: " + string.Join(", ", names);
    }

    private static string VerdictName(FileInfo capture) => Path.GetFileNameWithoutExtension(capture.Name) + ".verdict";

    /// <summary>One capture (options.Pcap), its verdicts to <paramref name="writer"/>.</summary>
    private static async Task RunOneAsync(Options options, Datapath.OpenFlow.Tables.OpenFlowTables tables, LoadedConfig config, DatapathSettings settings, ReplayPorts ports, TextWriter writer, TextWriter output)
    {
        if (options.Inline)
        {
            RunInline(options, tables, ports, settings, writer, output);
            return;
        }

        var entries = tables.AllRules().Select(r => r.Entry).ToList();
        if (options.Nodes == 2)
        {
            var capture = new ReplayCapture(options.Pcap.Name, ReadFrames(options.Pcap, ports), async lines =>
            {
                foreach (var line in lines)
                {
                    await writer.WriteLineAsync(line).ConfigureAwait(false);
                }
            });
            await TwoNodeReplay.RunAsync(options, config, settings, entries, [capture], output).ConfigureAwait(false);
        }
        else
        {
            await RunOnActorsAsync(options, config, settings, entries, ports, writer, output).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Every capture, each as if alone, its verdicts to DIR/NAME.verdict (written beside, then moved in
    /// place once it ran). Two nodes start once for all of them; one node starts per capture.
    /// </summary>
    private static async Task RunIntoDirectoryAsync(Options options, DirectoryInfo directory, Datapath.OpenFlow.Tables.OpenFlowTables tables, LoadedConfig config, DatapathSettings settings, ReplayPorts ports, TextWriter output)
    {
        FileErrors.CreateForOption("--verdicts-dir", directory.FullName, () => Directory.CreateDirectory(directory.FullName), isDirectory: true);
        async Task WriteAsync(FileInfo capture, IReadOnlyList<string> lines)
        {
            string path = Path.Combine(directory.FullName, VerdictName(capture));
            string written = OutputPath.IsReplaceable(path) ? path + ".partial" : path;
            var file = FileErrors.CreateForOption("--verdicts-dir", written, () => new StreamWriter(written));
            await using (file.ConfigureAwait(false))
            {
                foreach (var line in lines)
                {
                    await file.WriteLineAsync(line).ConfigureAwait(false);
                }
            }

            if (written != path)
            {
                File.Move(written, path, overwrite: true);
            }
        }

        if (options.Nodes == 2 && !options.Inline)
        {
            var captures = options.AllCaptures
                .Select(file => new ReplayCapture(file.Name, ReadFrames(file, ports), lines => WriteAsync(file, lines)))
                .ToList();
            await TwoNodeReplay.RunAsync(options, config, settings, [.. tables.AllRules().Select(r => r.Entry)], captures, output).ConfigureAwait(false);
            return;
        }

        foreach (var capture in options.AllCaptures)
        {
            var writer = new StringWriter();
            await RunOneAsync(options with { Pcap = capture }, tables, config, settings, ports, writer, output).ConfigureAwait(false);
            await WriteAsync(capture, writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)).ConfigureAwait(false);
        }
    }

    private static void RunInline(Options options, Datapath.OpenFlow.Tables.OpenFlowTables tables, ReplayPorts ports, DatapathSettings settings, TextWriter writer, TextWriter output)
    {
        using var reader = PcapReader.Open(options.Pcap.FullName);
        var translator = new Translator(tables, new RecircRegistry(), [1, 2]);
        var datapath = new InlineDatapath(translator, settings.Pmd.Core, new ConnectionTable(settings.Conntrack.SingleTableOptions()));
        using var tx = options.TxPcapDir is not { } txDir ? null : FileErrors.CreateForOption("--tx-pcap-dir", txDir.FullName, () => TransmitCapture.Open(txDir), isDirectory: true);
        var replay = new VerdictReplay(datapath, ports) { OnTransmit = tx is null ? null : tx.Write };
        replay.Run(reader, writer);
        if (options.Flush is { } flush)
        {
            int flushed = datapath.FlushConntrack(flush.Zone);
            output.WriteLine($"flushed {flushed} connection(s){(flush.Zone is { } z ? $" in zone {z}" : string.Empty)}");
        }

        if (options.DumpConntrack)
        {
            foreach (var entry in datapath.Conntrack.Snapshot(nowMs: replay.ClockMs))
            {
                output.WriteLine(Datapath.Conntrack.ConntrackFormatter.FormatEntry(entry, options.Statistics ? replay.ClockMs : null));
            }
        }
    }

    /// <summary>The embedded default, the --config file, then --bypass and --pmds, as every replay node reads them.</summary>
    internal static LoadedConfig LoadConfig(FileInfo? file, string? bypass, int? pmds)
    {
        var config = BypassOption.Apply(DatapathConfig.Load(file?.FullName), bypass);
        return pmds is { } count ? config.With("datapath.pmds", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "--pmds") : config;
    }

    private static async Task RunOnActorsAsync(Options options, LoadedConfig config, DatapathSettings settings, IReadOnlyList<FlowEntry> flows, ReplayPorts ports, TextWriter writer, TextWriter output)
    {
        var frames = ReadFrames(options.Pcap, ports);

        // The capture's clock alone, as the inline datapath keeps it: no wall time between frames.
        await using var cluster = await DatapathCluster.StartAsync(config.Config, settings.Conntrack with { FrameClock = true }).ConfigureAwait(false);
        var node = DatapathNode.Start(cluster, settings.Pmds, settings.Pmd with { FrameClock = true }, settings.Bridge);
        foreach (var line in await ActorReplay.RunAsync(node, flows, frames, Patience).ConfigureAwait(false))
        {
            await writer.WriteLineAsync(line).ConfigureAwait(false);
        }

        if (options.Flush is { } flush)
        {
            await FlushConntrackAsync(cluster, flush.Zone, output).ConfigureAwait(false);
        }

        if (options.DumpConntrack)
        {
            await DumpConntrackAsync(cluster, output).ConfigureAwait(false);
        }

        await node.StopAsync().ConfigureAwait(false);
    }

    /// <summary>Flushes every shard (one zone or all), as dpctl/flush-conntrack does, and says how many connections went.</summary>
    internal static async Task FlushConntrackAsync(DatapathCluster cluster, ushort? zone, TextWriter output)
    {
        int flushed = 0;
        for (int shard = 0; shard < cluster.ConntrackSettings.Shards; shard++)
        {
            var answer = await cluster.Conntrack.Ask<ConnectionsFlushed>(new ConntrackEnvelope(shard, new FlushConnections(zone)), Patience).ConfigureAwait(false);
            flushed += answer.Count;
        }

        await output.WriteLineAsync($"flushed {flushed} connection(s){(zone is { } z ? $" in zone {z}" : string.Empty)}").ConfigureAwait(false);
    }

    /// <summary>Every shard's connections in dpctl/dump-conntrack form, then its count (asked off the packet path).</summary>
    internal static async Task DumpConntrackAsync(DatapathCluster cluster, TextWriter output)
    {
        int shards = cluster.ConntrackSettings.Shards;
        var counts = new List<string>();
        for (int shard = 0; shard < shards; shard++)
        {
            var dumped = await cluster.Conntrack.Ask<ConnectionsDumped>(new ConntrackEnvelope(shard, new DumpConnections(null)), Patience).ConfigureAwait(false);
            foreach (var line in dumped.Lines)
            {
                await output.WriteLineAsync(line).ConfigureAwait(false);
            }

            var stats = await cluster.Conntrack.Ask<ShardStatistics>(new ConntrackEnvelope(shard, GetShardStatistics.Instance), Patience).ConfigureAwait(false);
            counts.Add($"shard {shard}: {stats.Connections} connections, {stats.Batches} batches, {stats.Packets} packets");
        }

        foreach (var line in counts)
        {
            await output.WriteLineAsync(line).ConfigureAwait(false);
        }
    }

    internal static List<ReplayFrame> ReadFrames(FileInfo pcap, ReplayPorts ports)
    {
        using var reader = PcapReader.Open(pcap.FullName);
        var frames = new List<ReplayFrame>();
        while (reader.TryReadNext(out var header))
        {
            frames.Add(new ReplayFrame(header.RecordNumber, ports.PortOf(reader.CurrentFrame), reader.CurrentFrame.ToArray(), header.TimestampNs / 1_000_000));
        }

        return frames;
    }
}
