using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using Actors.Bridge;
using Actors.Cluster;
using Actors.Conntrack;
using Actors.Pmd;
using Actors.Wire;
using Akka.Actor;
using Datapath.Conntrack;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Trace;
using Datapath.OpenFlow.Translation;

namespace Host.Control;

/// <summary>
/// The commands of the control channel, each a question to the actor that owns the answer (the
/// bridge for flows, ports and PMDs, the conntrack shards through their region), asked with the
/// request timeout; nothing here touches the packet path. Output is what the Open vSwitch tool
/// of the same name prints (ovs-ofctl, ovs-appctl dpctl/..., dpif-netdev/...), with the same
/// facts as data for `--format json`.
/// </summary>
internal sealed partial class DatapathControl : IControlHandler, IAsyncDisposable
{
    /// <summary>Connections per page of a streamed dpctl/dump-conntrack: a message of a few tens of kilobytes.</summary>
    public const int ConntrackPage = 256;

    /// <summary>Our datapath's name, as dpctl commands take it (Open vSwitch's userspace datapath).</summary>
    public const string DatapathName = "netdev@ovs-netdev";

    /// <summary>The bridge's name, as ofproto/trace takes it.</summary>
    public const string BridgeName = "br0";

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private readonly ControlTargets _targets;
    private readonly VlogModules _log;
    private readonly Dictionary<string, Command> _commands;
    private readonly DatapathSampler _sampler;
    private long _conntrackPages;
    private int _conntrackLinesHeld;
    private int _conntrackLinesHeldMax;

    public DatapathControl(ControlTargets targets, VlogModules log)
    {
        _targets = targets;
        _log = log;
        _sampler = new DatapathSampler(targets);
        if (targets.System is { } system)
        {
            var akka = Akka.Event.Logging.LogLevelFor(system.Settings.LogLevel) switch
            {
                Akka.Event.LogLevel.DebugLevel => VlogLevel.Dbg,
                Akka.Event.LogLevel.InfoLevel => VlogLevel.Info,
                Akka.Event.LogLevel.WarningLevel => VlogLevel.Warn,
                _ => VlogLevel.Err,
            };
            log.Add("akka", akka, level => system.EventStream.SetLogLevel(level switch
            {
                VlogLevel.Dbg => Akka.Event.LogLevel.DebugLevel,
                VlogLevel.Info => Akka.Event.LogLevel.InfoLevel,
                VlogLevel.Warn => Akka.Event.LogLevel.WarningLevel,
                _ => Akka.Event.LogLevel.ErrorLevel,
            }));
        }

        _commands = new(StringComparer.Ordinal)
        {
            ["add-flow"] = new("FLOW", 1, 1, (a, ct) => AddFlowsAsync("add-flow", a, ct)),
            ["add-flows"] = new("TEXT [SOURCE]", 1, 2, (a, ct) => AddFlowsAsync("add-flows", a, ct)),
            ["replace-flows"] = new("TEXT [SOURCE]", 1, 2, ReplaceFlowsAsync),
            ["del-flows"] = new("[MATCH] [--strict]", 0, 2, DeleteFlowsAsync),
            ["mod-flows"] = new("MATCH ACTIONS [--strict]", 1, 3, ModifyFlowsAsync),
            ["dump-flows"] = new("[MATCH] [--no-stats]", 0, 2, DumpFlowsAsync),
            ["dpctl/dump-flows"] = new("[dp]", 0, 1, DumpDatapathFlowsAsync),
            ["dpctl/del-flows"] = new("[dp]", 0, 1, DeleteDatapathFlowsAsync),
            ["dpctl/dump-conntrack"] = new("[dp] [zone=N]", 0, 2, DumpConntrackAsync),
            ["dpctl/flush-conntrack"] = new("[dp] [zone=N] [mark=X[/M]] [labels=Y[/N]] [ct-orig-tuple [ct-reply-tuple]]", 0, 6, FlushConntrackAsync),
            ["dpif-netdev/pmd-stats-show"] = new("[-pmd core] [dp]", 0, 3, PmdStatsShowAsync),
            ["dpif-netdev/pmd-stats-clear"] = new("[-pmd core] [dp]", 0, 3, PmdStatsClearAsync),
            ["dpif-netdev/pmd-rxq-show"] = new("[-pmd core] [dp]", 0, 3, PmdRxqShowAsync),
            ["show"] = new(string.Empty, 0, 0, ShowAsync),
            ["ofproto/trace"] = new("[bridge] FLOW [PACKET] [--ct-next FLAGS]...", 1, int.MaxValue, TraceAsync),
            ["add-port"] = new("NAME TYPE [KEY=VALUE]...", 2, int.MaxValue, AddPortAsync),
            ["del-port"] = new("NAME", 1, 1, DeletePortAsync),
            ["exit"] = new("[--cleanup]", 0, 1, ExitAsync),
            ["list-commands"] = new(string.Empty, 0, 0, ListCommands),
            ["version"] = new(string.Empty, 0, 0, Version),
            ["vlog/list"] = new(string.Empty, 0, 0, (_, _) => Task.FromResult(new ControlReply(_log.List()))),
            ["vlog/set"] = new("{spec | PATTERN:destination:pattern}", 1, int.MaxValue, VlogSet),
            ["coverage/show"] = new(string.Empty, 0, 0, CoverageShowAsync),
        };
        AddConntrackCommands();
    }

    /// <summary>Pages of connections asked of the conntrack shards by dpctl/dump-conntrack, since the start.</summary>
    public long ConntrackPagesAsked => Interlocked.Read(ref _conntrackPages);

    /// <summary>The most connection lines any dump held at once (a page, never the table).</summary>
    public int ConntrackLinesHeldMax => Volatile.Read(ref _conntrackLinesHeldMax);

    /// <summary>Starts the readings every 5 s behind coverage/show and pmd-rxq-show.</summary>
    public void Start() => _sampler.Start();

    public ValueTask DisposeAsync() => _sampler.DisposeAsync();

    public Task<ControlReply> HandleAsync(string method, IReadOnlyList<string> args, CancellationToken cancellation)
    {
        // The checks and messages of unixctl.c process_command.
        if (!_commands.TryGetValue(method, out var command))
        {
            throw new ControlException(JsonRpcCodes.MethodNotFound, $"\"{method}\" is not a valid command (use \"list-commands\" to see a list of valid commands)");
        }

        if (args.Count < command.Min)
        {
            throw new ControlException(JsonRpcCodes.InvalidParams, $"\"{method}\" command requires at least {command.Min} arguments");
        }

        if (args.Count > command.Max)
        {
            throw new ControlException(JsonRpcCodes.InvalidParams, $"\"{method}\" command takes at most {command.Max} arguments");
        }

        return command.Run(args, cancellation);
    }

    private sealed record Command(string Usage, int Min, int Max, Func<IReadOnlyList<string>, CancellationToken, Task<ControlReply>> Run);

    private Task<ControlReply> ListCommands(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        // unixctl_list_commands: sorted, "  %-23s %s".
        var sb = new StringBuilder("The available commands are:\n");
        foreach (var (name, command) in _commands.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            sb.Append(C, $"  {name,-23} {command.Usage}\n");
        }

        return Task.FromResult(new ControlReply(sb.ToString(), _commands.Keys.Order(StringComparer.Ordinal).ToArray()));
    }

    /// <summary>ovs_get_program_version's form, "PROGRAM (PACKAGE) VERSION", with our program and package.</summary>
    private static Task<ControlReply> Version(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        string version = typeof(DatapathControl).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
        return Task.FromResult(new ControlReply($"ovs-actors (ovs-actors) {version}\n", new { Program = "ovs-actors", Version = version }));
    }

    private Task<ControlReply> VlogSet(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        foreach (string spec in args)
        {
            if (_log.Set(spec) is { } error)
            {
                throw new ControlException(JsonRpcCodes.InvalidParams, error);
            }
        }

        return Task.FromResult(ControlReply.Empty);
    }

    private async Task<ControlReply> CoverageShowAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        var history = _sampler.History();
        if (history.Count == 0)
        {
            // Nothing read yet (the first reading is at start-up): read now so the totals are there.
            await _sampler.ReadAsync(cancellation, keep: true).ConfigureAwait(false);
            history = _sampler.History();
        }

        var latest = history[^1].Events;
        return new ControlReply(CoverageText.Format(history), new { Events = latest.Where(e => e.Value > 0).OrderBy(e => e.Key, StringComparer.Ordinal).ToDictionary() });
    }

    private async Task<T> AskAsync<T>(IActorRef target, object message, CancellationToken cancellation)
    {
        var answer = await target.Ask<object>(message, _targets.Timeout, cancellation).ConfigureAwait(false);
        return answer switch
        {
            T expected => expected,
            FlowsRejected rejected => throw new ControlException(JsonRpcCodes.CommandFailed, string.Join('\n', rejected.Errors)),
            PortCommandFailed failed => throw new ControlException(JsonRpcCodes.CommandFailed, failed.Error),
            _ => throw new ControlException(JsonRpcCodes.InternalError, $"unexpected answer {answer.GetType().Name}"),
        };
    }

    private async Task<ControlReply> FlowCommandAsync(object message, CancellationToken cancellation)
    {
        var changed = await AskAsync<FlowsChanged>(_targets.Bridge, message, cancellation).ConfigureAwait(false);
        return new ControlReply(string.Empty, new { changed.Version, changed.Affected });
    }

    private Task<ControlReply> AddFlowsAsync(string method, IReadOnlyList<string> args, CancellationToken cancellation)
    {
        var a = CommandArguments.Parse(method, args, 1, method == "add-flow" ? 1 : 2);
        return FlowCommandAsync(new AddFlows(a.Positionals[0], a.At(1) ?? method), cancellation);
    }

    private Task<ControlReply> ReplaceFlowsAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        var a = CommandArguments.Parse("replace-flows", args, 1, 2);
        return FlowCommandAsync(new ReplaceFlows(a.Positionals[0], a.At(1) ?? "replace-flows"), cancellation);
    }

    private Task<ControlReply> DeleteFlowsAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        var a = CommandArguments.Parse("del-flows", args, 0, 1, flags: ["--strict"]);
        return FlowCommandAsync(new DeleteFlows(a.At(0), a.Has("--strict")), cancellation);
    }

    private Task<ControlReply> ModifyFlowsAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        var a = CommandArguments.Parse("mod-flows", args, 1, 2, flags: ["--strict"]);
        string flow = a.Positionals.Count == 2 ? $"{a.Positionals[0]} actions={StripActionsPrefix(a.Positionals[1])}" : a.Positionals[0];
        if (!flow.Contains("actions=", StringComparison.Ordinal))
        {
            throw CommandArguments.Bad("mod-flows", "needs actions: MATCH ACTIONS, or \"MATCH actions=ACTIONS\"");
        }

        return FlowCommandAsync(new ModifyFlows(flow, a.Has("--strict")), cancellation);
    }

    private static string StripActionsPrefix(string actions) =>
        actions.StartsWith("actions=", StringComparison.Ordinal) ? actions["actions=".Length..] : actions;

    private async Task<ControlReply> DumpFlowsAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        var a = CommandArguments.Parse("dump-flows", args, 0, 1, flags: ["--no-stats"]);
        var dumped = await AskAsync<FlowsDumped>(_targets.Bridge, new DumpFlows(!a.Has("--no-stats"), a.At(0)), cancellation).ConfigureAwait(false);
        var flows = dumped.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(FlowDumpLine.Parse).ToArray();
        return new ControlReply(dumped.Text, new { dumped.Version, dumped.PmdsMissing, Flows = flows });
    }

    private async Task<ControlReply> DumpDatapathFlowsAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        CommandArguments.Parse("dpctl/dump-flows", WithoutDatapath("dpctl/dump-flows", args), 0, 0);
        var dumped = await AskAsync<DatapathFlowsDumped>(_targets.Bridge, DumpDatapathFlows.Instance, cancellation).ConfigureAwait(false);
        var sb = new StringBuilder();
        foreach (var pmd in dumped.Pmds)
        {
            sb.Append(C, $"flow-dump from pmd on cpu core: {pmd.Pmd}\n");
            foreach (var flow in pmd.Flows)
            {
                DpctlFlowText.Append(sb, flow);
                sb.Append('\n');
            }
        }

        return new ControlReply(sb.ToString(), new { dumped.Pmds, dumped.PmdsMissing });
    }

    private async Task<ControlReply> DeleteDatapathFlowsAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        CommandArguments.Parse("dpctl/del-flows", WithoutDatapath("dpctl/del-flows", args), 0, 0);
        var deleted = await AskAsync<DatapathFlowsDeleted>(_targets.Bridge, DeleteDatapathFlows.Instance, cancellation).ConfigureAwait(false);
        return new ControlReply(string.Empty, deleted);
    }

    /// <summary>
    /// Streamed: one page of <see cref="ConntrackPage"/> connections asked of one shard at a time,
    /// the next only once the client's socket took the previous one. A dump of any size holds one
    /// page, and stops asking when the client goes away (the enumeration is cancelled).
    /// </summary>
    private Task<ControlReply> DumpConntrackAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        ushort? zone = ParseZone("dpctl/dump-conntrack", WithoutDatapath("dpctl/dump-conntrack", args));
        return Task.FromResult(new ControlReply(string.Empty) { Stream = new ReplyStream("connections", ConntrackPagesAsync(zone, cancellation)) });
    }

    private async IAsyncEnumerable<ReplyChunk> ConntrackPagesAsync(ushort? zone, [EnumeratorCancellation] CancellationToken cancellation)
    {
        for (int shard = 0; shard < _targets.ConntrackShards; shard++)
        {
            int from = 0;
            while (from >= 0)
            {
                cancellation.ThrowIfCancellationRequested();
                Interlocked.Increment(ref _conntrackPages);
                var page = await AskAsync<ConnectionsDumped>(_targets.Conntrack, new ConntrackEnvelope(shard, new DumpConnections(zone, from, ConntrackPage)), cancellation).ConfigureAwait(false);
                from = page.NextSlot;
                if (page.Lines.Length == 0)
                {
                    continue;
                }

                int held = Interlocked.Add(ref _conntrackLinesHeld, page.Lines.Length);
                InterlockedMax(ref _conntrackLinesHeldMax, held);
                try
                {
                    var text = new StringBuilder();
                    foreach (string line in page.Lines)
                    {
                        text.Append(line).Append('\n');
                    }

                    // JSON clients get each connection's fields, not its line (parsed only if asked for).
                    yield return new ReplyChunk(text.ToString(), new ConntrackLineFields.Parsed(page.Lines));
                }
                finally
                {
                    Interlocked.Add(ref _conntrackLinesHeld, -page.Lines.Length);
                }
            }
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen = Volatile.Read(ref target);
        while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var now && now != seen)
        {
            seen = now;
        }
    }

    /// <summary>dpctl commands take the datapath's name first, optionally; ours is the only one.</summary>
    private static IReadOnlyList<string> WithoutDatapath(string method, IReadOnlyList<string> args)
    {
        if (args.Count > 0 && !args[0].StartsWith('-') && !args[0].Contains('=', StringComparison.Ordinal) && (args[0].Contains('@', StringComparison.Ordinal) || args[0] == "ovs-netdev"))
        {
            return args[0] is DatapathName or "ovs-netdev"
                ? args.Skip(1).ToArray()
                : throw CommandArguments.Bad(method, $"no such datapath \"{args[0]}\" (this one is {DatapathName})");
        }

        return args;
    }

    /// <summary>"-pmd N" (one PMD's block only) and an optional datapath name, as dpif-netdev's show commands take them.</summary>
    private static int? ParsePmdFilter(string method, IReadOnlyList<string> args)
    {
        var rest = new List<string>(args);
        int? pmd = null;
        int at = rest.IndexOf("-pmd");
        if (at >= 0)
        {
            if (at + 1 >= rest.Count || !int.TryParse(rest[at + 1], NumberStyles.None, C, out int core))
            {
                throw CommandArguments.Bad(method, "-pmd needs a core number");
            }

            pmd = core;
            rest.RemoveRange(at, 2);
        }

        CommandArguments.Parse(method, WithoutDatapath(method, rest), 0, 0);
        return pmd;
    }

    /// <summary>
    /// flush-conntrack [dp] [zone=N] [mark=X[/M]] [labels=Y[/N]] [ct-orig-tuple [ct-reply-tuple]] on
    /// every shard (a bare N is read as zone=N, as before); a tuple matches either direction.
    /// </summary>
    private async Task<ControlReply> FlushConntrackAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        const string Method = "dpctl/flush-conntrack";
        var rest = WithoutDatapath(Method, args);
        IWireMessage flush;
        if (rest.Count <= 1 && (rest.Count == 0 || !rest[0].Contains(',', StringComparison.Ordinal) && !rest[0].StartsWith("mark=", StringComparison.Ordinal) && !rest[0].StartsWith("labels=", StringComparison.Ordinal) && !rest[0].StartsWith("ct_", StringComparison.Ordinal)))
        {
            flush = new FlushConnections(ParseZone(Method, rest));
        }
        else
        {
            RunDpctl(Method, () => ConntrackFlushFilter.Parse(rest));
            flush = new FlushConnectionsMatching(rest.ToArray());
        }

        var flushed = await AskShardsAsync<ConnectionsFlushed>(flush, cancellation).ConfigureAwait(false);
        return new ControlReply(string.Empty, new { Flushed = flushed.Sum(f => f.Count) });
    }

    /// <summary>"zone=N" as ovs-appctl dpctl takes it, or a bare N.</summary>
    private static ushort? ParseZone(string method, IReadOnlyList<string> args)
    {
        var a = CommandArguments.Parse(method, args, 0, 1);
        if (a.At(0) is not { } text)
        {
            return null;
        }

        string number = text.StartsWith("zone=", StringComparison.Ordinal) ? text["zone=".Length..] : text;
        return ushort.TryParse(number, NumberStyles.None, C, out ushort zone)
            ? zone
            : throw CommandArguments.Bad(method, $"'{text}' is not a zone (zone=N, 0..65535)");
    }

    private async Task<ControlReply> PmdStatsShowAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        int? only = ParsePmdFilter("dpif-netdev/pmd-stats-show", args);
        var gathered = await AskAsync<PmdStatisticsGathered>(_targets.Bridge, GetPmdStatistics.Instance, cancellation).ConfigureAwait(false);
        // Per-queue times are pmd-rxq-show's (and keyed by tuples, which JSON has no form for).
        var pmds = gathered.Pmds.Where(p => only is null || CoreId(p) == only).Select(p => p with { RxqProcessingNs = null }).ToList();
        var sb = new StringBuilder();
        foreach (var pmd in pmds)
        {
            pmd.Pipeline.Format(sb, PmdName(CoreId(pmd)));
            sb.Append(C, $"  megaflows: {pmd.MegaflowCount}\n");
            AppendAccounting(sb, pmd);
        }

        return new ControlReply(sb.ToString(), new { Pmds = pmds, gathered.PmdsMissing });
    }

    /// <summary>Where this PMD's received packets went (received + from packet_outs = sent + dropped + held), the drops by reason, and its copies.</summary>
    private static void AppendAccounting(StringBuilder sb, PmdStatistics pmd)
    {
        sb.Append(C, $"  packets sent: {pmd.PacketsSent}\n");
        sb.Append(C, $"  packets dropped: {pmd.PacketsDropped}\n");
        foreach (var (reason, count) in pmd.Drops.Where(d => d.Value > 0).OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            sb.Append(C, $"    {reason}: {count}\n");
        }

        sb.Append(C, $"  packets held: {pmd.PacketsHeld}\n");
        if (pmd.PacketsInjected > 0)
        {
            sb.Append(C, $"  packets from packet_outs: {pmd.PacketsInjected}\n");
        }

        if (pmd.PacketsWaiting > 0)
        {
            sb.Append(C, $"  packets not yet received (batches waiting for a revalidation): {pmd.PacketsWaiting}\n");
        }

        sb.Append(C, $"  output copies: {pmd.Outputs} ({pmd.ExtraCopies} beyond each packet's first)\n");
        sb.Append(C, $"  tx dropped: {pmd.TransmitDropsNoPort + pmd.TransmitDropsPoolEmpty} (no such port {pmd.TransmitDropsNoPort}, pool empty {pmd.TransmitDropsPoolEmpty})\n");
        if (pmd.ToUserspace > 0)
        {
            sb.Append(C, $"  to the controller: {pmd.ToUserspace - pmd.ControllerDrops} (not delivered {pmd.ControllerDrops})\n");
        }
    }

    private async Task<ControlReply> PmdStatsClearAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        ParsePmdFilter("dpif-netdev/pmd-stats-clear", args);
        var cleared = await AskAsync<PmdsCleared>(_targets.Bridge, ClearAllPmdStatistics.Instance, cancellation).ConfigureAwait(false);
        return new ControlReply(string.Empty, cleared);
    }

    /// <summary>Each PMD's queues with their measured share of its time over the last minute (<see cref="RxqText"/>).</summary>
    private async Task<ControlReply> PmdRxqShowAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        int? only = ParsePmdFilter("dpif-netdev/pmd-rxq-show", args);
        var history = _sampler.History();
        var now = await _sampler.ReadAsync(cancellation).ConfigureAwait(false);
        var stats = await AskAsync<PmdStatisticsGathered>(_targets.Bridge, GetPmdStatistics.Instance, cancellation).ConfigureAwait(false);
        var shown = await AskAsync<PortsShown>(_targets.Bridge, ShowPorts.Instance, cancellation).ConfigureAwait(false);
        int pmdCount = stats.Pmds.Count + stats.PmdsMissing;
        var layout = RxqLayout.Assign(shown.Ports.Select(p => p.Number).ToArray(), _targets.QueuesPerPort, pmdCount);
        var names = shown.Ports.ToDictionary(p => p.Number, p => p.Name);
        var pmds = stats.Pmds.Where(p => only is null || CoreId(p) == only).Select(p => p.Pmd).Order().ToArray();
        var cores = stats.Pmds.ToDictionary(p => p.Pmd, CoreId);
        var usage = RxqText.Measure(history, now, pmds, layout, names).Select(u => u with { Core = cores[u.Pmd] }).ToList();
        return new ControlReply(RxqText.Format(usage), usage);
    }

    private async Task<ControlReply> ShowAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        CommandArguments.Parse("show", args, 0, 0);
        var shown = await AskAsync<PortsShown>(_targets.Bridge, ShowPorts.Instance, cancellation).ConfigureAwait(false);
        var sb = new StringBuilder();
        foreach (var port in shown.Ports)
        {
            sb.Append(C, $" {port.Number}({port.Name}): type {port.Type}\n");
            if (port.Counters is { } c)
            {
                sb.Append(C, $"     rx pkts={c.RxPackets}, bytes={c.RxBytes}, drop={c.RxDropped}\n");
                sb.Append(C, $"     tx pkts={c.TxPackets}, bytes={c.TxBytes}\n");
            }
            else
            {
                sb.Append("     counters: no answer in time\n");
            }
        }

        if (_targets.System is not { } system)
        {
            return new ControlReply(sb.ToString(), shown.Ports);
        }

        var placement = await ConntrackPlacement.GatherAsync(system, _targets.Conntrack, _targets.ConntrackShards, _targets.Timeout, cancellation).ConfigureAwait(false);
        sb.Append(PlacementText.Format(placement));
        return new ControlReply(sb.ToString(), new { shown.Ports, Conntrack = placement });
    }

    private async Task<ControlReply> TraceAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        var a = CommandArguments.Parse("ofproto/trace", args, 1, 3, valued: ["--ct-next"]);
        var positionals = a.Positionals.ToList();
        if (positionals.Count == 3 || (positionals.Count == 2 && positionals[0] == BridgeName))
        {
            // ofproto/trace BRIDGE FLOW [PACKET], as Open vSwitch takes it.
            if (positionals[0] != BridgeName)
            {
                throw CommandArguments.Bad("ofproto/trace", $"no bridge named {positionals[0]} (this datapath's is {BridgeName})");
            }

            positionals.RemoveAt(0);
        }

        if (positionals.Contains("-generate"))
        {
            throw CommandArguments.Bad("ofproto/trace", "-generate is not supported: give the packet in hex");
        }

        var snapshot = await AskAsync<FlowTableSnapshot>(_targets.Bridge, GetFlowTable.Instance, cancellation).ConfigureAwait(false);
        string text;
        try
        {
            var states = a.Values("--ct-next").Select(Tracer.ParseCtState).ToList();
            var key = Tracer.ParseFlow(positionals[0]);
            if (positionals.Count > 1 && positionals[1] is { } hex)
            {
                var ct = key.CtState;
                key = Tracer.ParsePacket(hex, key.InPort);
                key.CtState = ct;
            }

            var tables = new OpenFlowTables();
            tables.Add(snapshot.Entries);
            text = new Tracer(new Translator(tables, new RecircRegistry(), snapshot.Ports.ToArray())).Trace(key, states) + "\n";
        }
        catch (Datapath.OpenFlow.Syntax.FlowSyntaxException e)
        {
            throw CommandArguments.Bad("ofproto/trace", "bad flow: " + string.Join("; ", e.Errors.Select(x => $"column {x.Column}: {x.Message}")));
        }
        catch (FormatException e)
        {
            throw CommandArguments.Bad("ofproto/trace", e.Message);
        }

        return new ControlReply(text, new { snapshot.Version, Trace = text.Split('\n') });
    }

    private async Task<ControlReply> AddPortAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        var a = CommandArguments.Parse("add-port", args, 2, int.MaxValue);
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var option in a.Positionals.Skip(2))
        {
            int equals = option.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw CommandArguments.Bad("add-port", $"'{option}' is not KEY=VALUE");
            }

            options[option[..equals]] = option[(equals + 1)..];
        }

        var created = await AskAsync<PortCreated>(_targets.Bridge, new CreatePort(a.Positionals[0], a.Positionals[1], options), cancellation).ConfigureAwait(false);
        return new ControlReply(string.Empty, created);
    }

    private async Task<ControlReply> DeletePortAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        var a = CommandArguments.Parse("del-port", args, 1, 1);
        var destroyed = await AskAsync<PortDestroyed>(_targets.Bridge, new DestroyPort(a.Positionals[0]), cancellation).ConfigureAwait(false);
        return new ControlReply(string.Empty, destroyed);
    }

    private Task<ControlReply> ExitAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        // --cleanup (Open vSwitch: remove datapath state): a run's state ends with it anyway.
        CommandArguments.Parse("exit", args, 0, 0, flags: ["--cleanup"]);
        _targets.RequestExit();
        return Task.FromResult(ControlReply.Empty);
    }

    /// <summary>Open vSwitch names a PMD by NUMA node and core (<see cref="CoreId"/>).</summary>
    private static string PmdName(int core) => $"numa_id 0 core_id {core}";

    /// <summary>The CPU a PMD's thread is pinned to (datapath.pmd-cpu-mask), as Open vSwitch's core_id; the PMD's number when the kernel places it.</summary>
    private static int CoreId(PmdStatistics pmd) => pmd.Cpu ?? pmd.Pmd;
}
