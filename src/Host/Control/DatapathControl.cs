using System.Globalization;
using System.Text;
using Actors.Bridge;
using Actors.Conntrack;
using Actors.Pmd;
using Akka.Actor;
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
internal sealed class DatapathControl : IControlHandler
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private readonly ControlTargets _targets;
    private readonly Dictionary<string, (string Usage, Func<IReadOnlyList<string>, CancellationToken, Task<ControlReply>> Run)> _commands;
    private readonly PmdUsage _usage = new();

    public DatapathControl(ControlTargets targets)
    {
        _targets = targets;
        _commands = new(StringComparer.Ordinal)
        {
            ["add-flow"] = ("FLOW", (a, ct) => AddFlowsAsync("add-flow", a, ct)),
            ["add-flows"] = ("TEXT [SOURCE]", (a, ct) => AddFlowsAsync("add-flows", a, ct)),
            ["replace-flows"] = ("TEXT [SOURCE]", ReplaceFlowsAsync),
            ["del-flows"] = ("[MATCH] [--strict]", DeleteFlowsAsync),
            ["mod-flows"] = ("MATCH ACTIONS | \"MATCH actions=ACTIONS\" [--strict]", ModifyFlowsAsync),
            ["dump-flows"] = ("[MATCH] [--no-stats]", DumpFlowsAsync),
            ["dpctl/dump-flows"] = (string.Empty, DumpDatapathFlowsAsync),
            ["dpctl/del-flows"] = (string.Empty, DeleteDatapathFlowsAsync),
            ["dpctl/dump-conntrack"] = ("[zone=N]", DumpConntrackAsync),
            ["dpctl/flush-conntrack"] = ("[zone=N]", FlushConntrackAsync),
            ["dpif-netdev/pmd-stats-show"] = (string.Empty, PmdStatsShowAsync),
            ["dpif-netdev/pmd-stats-clear"] = (string.Empty, PmdStatsClearAsync),
            ["dpif-netdev/pmd-rxq-show"] = (string.Empty, PmdRxqShowAsync),
            ["show"] = (string.Empty, ShowAsync),
            ["ofproto/trace"] = ("FLOW [PACKET] [--ct-next FLAGS]...", TraceAsync),
            ["add-port"] = ("NAME TYPE [KEY=VALUE]...", AddPortAsync),
            ["del-port"] = ("NAME", DeletePortAsync),
            ["exit"] = (string.Empty, ExitAsync),
            ["list-commands"] = (string.Empty, ListCommands),
        };
    }

    public Task<ControlReply> HandleAsync(string method, IReadOnlyList<string> args, CancellationToken cancellation)
    {
        if (!_commands.TryGetValue(method, out var command))
        {
            throw new ControlException(JsonRpcCodes.MethodNotFound, $"\"{method}\" is not a valid command (use list-commands to see the commands there are)");
        }

        return command.Run(args, cancellation);
    }

    private Task<ControlReply> ListCommands(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        CommandArguments.Parse("list-commands", args, 0, 0);
        var sb = new StringBuilder("The available commands are:\n");
        foreach (var (name, (usage, _)) in _commands.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            sb.Append(C, $"  {name,-32}{usage}\n");
        }

        return Task.FromResult(new ControlReply(sb.ToString(), _commands.Keys.Order(StringComparer.Ordinal).ToArray()));
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
        CommandArguments.Parse("dpctl/dump-flows", args, 0, 0);
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
        CommandArguments.Parse("dpctl/del-flows", args, 0, 0);
        var deleted = await AskAsync<DatapathFlowsDeleted>(_targets.Bridge, DeleteDatapathFlows.Instance, cancellation).ConfigureAwait(false);
        return new ControlReply(string.Empty, deleted);
    }

    private async Task<ControlReply> DumpConntrackAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        ushort? zone = ParseZone("dpctl/dump-conntrack", args);
        var dumps = await Task.WhenAll(Enumerable.Range(0, _targets.ConntrackShards).Select(shard =>
            AskAsync<ConnectionsDumped>(_targets.Conntrack, new ConntrackEnvelope(shard, new DumpConnections(zone)), cancellation))).ConfigureAwait(false);
        var lines = dumps.SelectMany(d => d.Lines).ToArray();
        var text = lines.Length == 0 ? string.Empty : string.Join('\n', lines) + "\n";
        return new ControlReply(text, new { Connections = lines, Shards = dumps.Select(d => new { d.Shard, Count = d.Lines.Length }).ToArray() });
    }

    private async Task<ControlReply> FlushConntrackAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        ushort? zone = ParseZone("dpctl/flush-conntrack", args);
        var flushed = await Task.WhenAll(Enumerable.Range(0, _targets.ConntrackShards).Select(shard =>
            AskAsync<ConnectionsFlushed>(_targets.Conntrack, new ConntrackEnvelope(shard, new FlushConnections(zone)), cancellation))).ConfigureAwait(false);
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
        CommandArguments.Parse("dpif-netdev/pmd-stats-show", args, 0, 0);
        var gathered = await AskAsync<PmdStatisticsGathered>(_targets.Bridge, GetPmdStatistics.Instance, cancellation).ConfigureAwait(false);
        var sb = new StringBuilder();
        foreach (var pmd in gathered.Pmds)
        {
            pmd.Pipeline.Format(sb, PmdName(pmd.Pmd));
            sb.Append(C, $"  megaflows: {pmd.MegaflowCount}\n");
        }

        return new ControlReply(sb.ToString(), new { gathered.Pmds, gathered.PmdsMissing });
    }

    private async Task<ControlReply> PmdStatsClearAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        CommandArguments.Parse("dpif-netdev/pmd-stats-clear", args, 0, 0);
        var cleared = await AskAsync<PmdsCleared>(_targets.Bridge, ClearAllPmdStatistics.Instance, cancellation).ConfigureAwait(false);
        _usage.Reset();
        return new ControlReply(string.Empty, cleared);
    }

    private async Task<ControlReply> PmdRxqShowAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        CommandArguments.Parse("dpif-netdev/pmd-rxq-show", args, 0, 0);
        var stats = await AskAsync<PmdStatisticsGathered>(_targets.Bridge, GetPmdStatistics.Instance, cancellation).ConfigureAwait(false);
        var table = await AskAsync<FlowTableSnapshot>(_targets.Bridge, GetFlowTable.Instance, cancellation).ConfigureAwait(false);
        var usage = _usage.Sample(stats.Pmds);
        int pmds = stats.Pmds.Count + stats.PmdsMissing;
        var rows = RxqLayout.Assign(table.Ports, _targets.QueuesPerPort, pmds);
        var sb = new StringBuilder();
        foreach (var pmd in stats.Pmds)
        {
            sb.Append(C, $"pmd thread {PmdName(pmd.Pmd)}:\n  isolated : false\n");
            foreach (var (port, queue) in rows[pmd.Pmd])
            {
                sb.Append(C, $"  port: {port,-16}  queue-id: {queue,2} (enabled)   pmd usage: NOT AVAIL\n");
            }

            sb.Append(C, $"  pmd usage: {usage[pmd.Pmd],3:F0} %\n");
        }

        var data = stats.Pmds.Select(p => new
        {
            p.Pmd,
            UsagePercent = usage[p.Pmd],
            Queues = rows[p.Pmd].Select(r => new { r.Port, r.Queue }).ToArray(),
        }).ToArray();
        return new ControlReply(sb.ToString(), data);
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

        return new ControlReply(sb.ToString(), shown.Ports);
    }

    private async Task<ControlReply> TraceAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        var a = CommandArguments.Parse("ofproto/trace", args, 1, 2, valued: ["--ct-next"]);
        var snapshot = await AskAsync<FlowTableSnapshot>(_targets.Bridge, GetFlowTable.Instance, cancellation).ConfigureAwait(false);
        string text;
        try
        {
            var states = a.Values("--ct-next").Select(Tracer.ParseCtState).ToList();
            var key = Tracer.ParseFlow(a.Positionals[0]);
            if (a.At(1) is { } hex)
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
        CommandArguments.Parse("exit", args, 0, 0);
        _targets.RequestExit();
        return Task.FromResult(ControlReply.Empty);
    }

    /// <summary>Open vSwitch names a PMD by NUMA node and core; here the core is the PMD's number.</summary>
    private static string PmdName(int pmd) => $"numa_id 0 core_id {pmd}";
}
