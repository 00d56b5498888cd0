using System.CommandLine;
using System.Text.Json;
using Host.Configuration;
using Host.Control;

namespace Host.Commands;

/// <summary>
/// The client commands of the control channel (ovs-ofctl, ovs-appctl dpctl/... and dpif-netdev/...
/// against a running `run`): each sends one request to the socket given by --target (default: the
/// default socket of datapath.control.socket) and prints the answer as the Open vSwitch tool does,
/// or its data as JSON with --format json. A refused command prints the datapath's error on stderr
/// and exits 1; a socket that cannot be reached exits 2.
/// </summary>
internal static class ControlCommands
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public static IEnumerable<Command> Create()
    {
        yield return Command("add-flow", "add-flow", "Add a flow to the running datapath (ovs-ofctl add-flow).", [Arg("FLOW", "A flow in ovs-ofctl syntax.")]);
        yield return FileCommand("add-flows", "Add the flows of FILE (- for stdin) to the running datapath (ovs-ofctl add-flows).");
        yield return FileCommand("replace-flows", "Make the flows of FILE the running datapath's whole table, in one step (ovs-ofctl replace-flows).");
        yield return Command("del-flows", "del-flows", "Delete the flows MATCH selects, every flow without one (ovs-ofctl del-flows).", [Arg("MATCH", "[table=N,][priority=P,]MATCH", optional: true)], strict: true);
        yield return Command("mod-flows", "mod-flows", "Give the flows MATCH selects new actions (ovs-ofctl mod-flows).",
            [Arg("MATCH", "[table=N,][priority=P,]MATCH, or \"MATCH actions=ACTIONS\" in one argument."), Arg("ACTIONS", "The new actions.", optional: true)], strict: true);
        yield return Command("dpctl/dump-flows", "dpctl/dump-flows", "Each PMD's megaflows (ovs-appctl dpctl/dump-flows).", []);
        yield return Command("dpctl/del-flows", "dpctl/del-flows", "Remove every PMD's megaflows (ovs-appctl dpctl/del-flows).", []);
        yield return Command("dump-conntrack", "dpctl/dump-conntrack", "The connections, of one zone if given (ovs-appctl dpctl/dump-conntrack).", [Arg("ZONE", "zone=N or N.", optional: true)], alias: "dpctl/dump-conntrack");
        yield return Command("flush-conntrack", "dpctl/flush-conntrack", "Remove the connections the filter selects, every one without (ovs-appctl dpctl/flush-conntrack).",
            [Arg("FILTER", "[zone=N] [mark=X[/M]] [labels=Y[/N]] [ct-orig-tuple [ct-reply-tuple]], a tuple as ct_nw_src=A,ct_nw_dst=B,ct_nw_proto=P,ct_tp_src=S,ct_tp_dst=D (or a bare zone N).", many: true)], alias: "dpctl/flush-conntrack");
        yield return Command("dpctl/ct-set-maxconns", "dpctl/ct-set-maxconns", "Set the most connections over all shards (ovs-appctl dpctl/ct-set-maxconns).", [Arg("ARGS", "[dp] MAXCONNS", many: true)]);
        yield return Command("dpctl/ct-get-maxconns", "dpctl/ct-get-maxconns", "The most connections over all shards (ovs-appctl dpctl/ct-get-maxconns).", []);
        yield return Command("dpctl/ct-get-nconns", "dpctl/ct-get-nconns", "The connections over all shards (ovs-appctl dpctl/ct-get-nconns).", []);
        yield return Command("dpctl/ct-enable-tcp-seq-chk", "dpctl/ct-enable-tcp-seq-chk", "Check TCP sequence numbers (ovs-appctl dpctl/ct-enable-tcp-seq-chk).", []);
        yield return Command("dpctl/ct-disable-tcp-seq-chk", "dpctl/ct-disable-tcp-seq-chk", "Stop checking TCP sequence numbers (ovs-appctl dpctl/ct-disable-tcp-seq-chk).", []);
        yield return Command("dpctl/ct-get-tcp-seq-chk", "dpctl/ct-get-tcp-seq-chk", "Whether TCP sequence numbers are checked (ovs-appctl dpctl/ct-get-tcp-seq-chk).", []);
        yield return Command("dpctl/ct-set-limits", "dpctl/ct-set-limits", "Set zone limits over all shards (ovs-appctl dpctl/ct-set-limits).", [Arg("LIMITS", "[default=L] [zone=N,limit=L]...", many: true)]);
        yield return Command("dpctl/ct-del-limits", "dpctl/ct-del-limits", "Remove zone limits (ovs-appctl dpctl/ct-del-limits).", [Arg("ZONES", "zone=N1[,N2]...")]);
        yield return Command("dpctl/ct-get-limits", "dpctl/ct-get-limits", "The zone limits and their connections (ovs-appctl dpctl/ct-get-limits).", [Arg("ZONES", "zone=N1[,N2]...", optional: true)]);
        yield return Command("dpctl/ct-stats-show", "dpctl/ct-stats-show", "Connections per protocol (ovs-appctl dpctl/ct-stats-show).", [Arg("ARGS", "[zone=N] [verbose]", many: true)]);
        yield return Command("pmd-stats-show", "dpif-netdev/pmd-stats-show", "Each PMD's counters (ovs-appctl dpif-netdev/pmd-stats-show).", [], alias: "dpif-netdev/pmd-stats-show");
        yield return Command("pmd-stats-clear", "dpif-netdev/pmd-stats-clear", "Reset each PMD's counters (ovs-appctl dpif-netdev/pmd-stats-clear).", [], alias: "dpif-netdev/pmd-stats-clear");
        yield return Command("pmd-rxq-show", "dpif-netdev/pmd-rxq-show", "Which receive queues each PMD serves, and how busy it is (ovs-appctl dpif-netdev/pmd-rxq-show).", [], alias: "dpif-netdev/pmd-rxq-show");
        yield return Command("show", "show", "The ports with their rx/tx/drop counters (ovs-ofctl show, dump-ports).", []);
        yield return Command("ofproto/trace", "ofproto/trace", "Trace a flow through the running datapath's tables (ovs-appctl ofproto/trace).",
            [Arg("FLOW", "The packet's flow in ovs-ofctl match syntax."), Arg("PACKET", "An Ethernet frame in hex.", optional: true)], ctNext: true);
        yield return Command("add-port", "add-port", "Add a port (ovs-vsctl add-port): NAME TYPE [KEY=VALUE]...",
            [Arg("NAME", "The port's name."), Arg("TYPE", "The port's type."), Arg("OPTIONS", "KEY=VALUE options of the type.", many: true)]);
        yield return Command("del-port", "del-port", "Remove a port (ovs-vsctl del-port).", [Arg("NAME", "The port's name.")]);
        yield return Command("exit", "exit", "Stop the running datapath gracefully: stop receiving, drain, print the summary, exit 0.", []);
        yield return Command("list-commands", "list-commands", "The commands the running datapath serves (ovs-appctl list-commands).", []);
    }

    /// <summary>The --target option every client command has.</summary>
    public static Option<string> TargetOption() => new("--target")
    {
        Description = "The control socket of the running datapath (default: that of datapath.control.socket).",
        DefaultValueFactory = _ => ControlSettings.DefaultSocketPath(),
    };

    /// <summary>Sends one request and prints its answer; the exit code of a client command.</summary>
    public static int Call(string target, string name, string method, IReadOnlyList<string> args, bool json, TextWriter output, TextWriter error)
    {
        try
        {
            ControlClient.CallAsync(target, method, args, json, output, Patience).GetAwaiter().GetResult();
            return 0;
        }
        catch (ControlException e)
        {
            CommandError.Write(error, name, e.Message, json);
            return 1;
        }
        catch (ControlUnreachableException e)
        {
            CommandError.Write(error, name, e.Message, json);
            return 2;
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            CommandError.Write(error, name, $"bad answer from {target}: {e.Message}", json);
            return 2;
        }
    }

    private sealed record ArgSpec(string Name, string Description, bool Optional, bool Many);

    private static ArgSpec Arg(string name, string description, bool optional = false, bool many = false) => new(name, description, optional, many);

    private static Command Command(string name, string method, string description, ArgSpec[] specs, bool strict = false, bool ctNext = false, string? alias = null)
    {
        var command = new Command(name, description);
        if (alias is not null)
        {
            command.Aliases.Add(alias);
        }

        var target = TargetOption();
        command.Options.Add(target);
        // Every command answers with data too (a change says what it changed), so all take --format.
        var format = FormatOption();
        command.Options.Add(format);

        var strictOption = strict ? new Option<bool>("--strict") { Description = "Select only the flow with exactly this priority and match." } : null;
        if (strictOption is not null)
        {
            command.Options.Add(strictOption);
        }

        var ctNextOption = ctNext ? new Option<string[]>("--ct-next") { Description = "ct_state after the next conntrack, e.g. trk,est (repeatable)." } : null;
        if (ctNextOption is not null)
        {
            command.Options.Add(ctNextOption);
        }

        var arguments = specs.Select(s => s.Many
            ? (Argument)new Argument<string[]>(s.Name) { Description = s.Description, Arity = ArgumentArity.ZeroOrMore }
            : new Argument<string?>(s.Name) { Description = s.Description, Arity = s.Optional ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne }).ToList();
        foreach (var argument in arguments)
        {
            command.Arguments.Add(argument);
        }

        command.SetAction(parse =>
        {
            var args = new List<string>();
            foreach (var argument in arguments)
            {
                switch (argument)
                {
                    case Argument<string[]> many:
                        args.AddRange(parse.GetValue(many) ?? []);
                        break;
                    case Argument<string?> one when parse.GetValue(one) is { } value:
                        args.Add(value);
                        break;
                }
            }

            if (strictOption is not null && parse.GetValue(strictOption))
            {
                args.Add("--strict");
            }

            foreach (var flags in ctNextOption is null ? [] : parse.GetValue(ctNextOption) ?? [])
            {
                args.Add("--ct-next=" + flags);
            }

            bool json = parse.GetValue(format) == "json";
            return Call(parse.GetValue(target)!, name, method, args, json, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
        });
        return command;
    }

    /// <summary>add-flows / replace-flows FILE: the client reads the file (as ovs-ofctl does) and sends its text.</summary>
    private static Command FileCommand(string name, string description)
    {
        var file = new Argument<string>("FILE") { Description = "Flows in ovs-ofctl add-flows syntax, one per line; - reads stdin." };
        var target = TargetOption();
        var format = FormatOption();
        var command = new Command(name, description) { file, target, format };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            bool json = parse.GetValue(format) == "json";
            string text;
            try
            {
                text = path == "-" ? FlowFileText.Read(Console.OpenStandardInput()) : FlowFileText.Read(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                CommandError.Write(parse.InvocationConfiguration.Error, name, FileErrors.Describe(path, e), json);
                return 1;
            }

            string source = path == "-" ? "stdin" : Path.GetFileName(path);
            return Call(parse.GetValue(target)!, name, name, [text, source], json, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
        });
        return command;
    }

    /// <summary>--format text|json, on every read command.</summary>
    public static Option<string> FormatOption()
    {
        var option = new Option<string>("--format") { Description = "text (Open vSwitch's output) or json (the same facts for scripts).", DefaultValueFactory = _ => "text" };
        option.AcceptOnlyFromAmong("text", "json");
        return option;
    }
}
