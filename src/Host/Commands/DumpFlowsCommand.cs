using System.CommandLine;
using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Tables;

namespace Host.Commands;

/// <summary>
/// `dump-flows FLOWFILE`: parses an ovs-ofctl add-flows file, installs it and prints the tables
/// back as `ovs-ofctl dump-flows` does. A bad line prints FILE:LINE:COLUMN: message for every
/// bad line and exits 1; nothing is installed.
/// `dump-flows [MATCH] [--target SOCKET]`: the running datapath's flows (those MATCH selects) with
/// their counters, through the control socket. The argument is read as a file when it names one
/// and no --target is given; one that looks like a path (a '/', or a '.' and no '=': no match has
/// either) but names no file is reported missing, not sent to a datapath as a match.
/// </summary>
internal static class DumpFlowsCommand
{
    public static Command Create()
    {
        var argument = new Argument<string?>("FLOWFILE|MATCH") { Description = "A flow file in ovs-ofctl add-flows syntax; or, against the running datapath, a match selecting the flows to show.", Arity = ArgumentArity.ZeroOrOne };
        var noStats = new Option<bool>("--no-stats") { Description = "Leave out cookie, duration, table 0 and counters, as ovs-ofctl --no-stats." };
        var target = ControlCommands.TargetOption();
        var format = ControlCommands.FormatOption();
        var command = new Command("dump-flows", "Print the running datapath's flows with their counters (ovs-ofctl dump-flows), or parse a flow file and print it back normalised.") { argument, noStats, target, format };
        command.SetAction(parse =>
        {
            string? value = parse.GetValue(argument);
            bool targetGiven = parse.GetResult(target) is { Implicit: false };
            bool live = targetGiven || value is null || !File.Exists(value);
            if (live && !targetGiven && value is not null && LooksLikePath(value))
            {
                CommandError.Write(parse.InvocationConfiguration.Error, "dump-flows", Directory.Exists(value) ? $"{value} is a directory, not a flow file" : $"{value}: no such file", parse.GetValue(format) == "json");
                return 1;
            }

            if (!live)
            {
                return Run(new FileInfo(value!), !parse.GetValue(noStats), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            }

            var args = new List<string>();
            if (value is not null)
            {
                args.Add(value);
            }

            if (parse.GetValue(noStats))
            {
                args.Add("--no-stats");
            }

            return ControlCommands.Call(parse.GetValue(target)!, "dump-flows", "dump-flows", args, parse.GetValue(format) == "json", parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
        });
        return command;
    }

    /// <summary>A path rather than a match: ovs-ofctl matches have neither '/' nor a '.' outside a field's value.</summary>
    private static bool LooksLikePath(string value) =>
        value.Contains('/', StringComparison.Ordinal) || (value.Contains('.', StringComparison.Ordinal) && !value.Contains('=', StringComparison.Ordinal)) || Directory.Exists(value);

    internal static int Run(FileInfo file, bool withStats, TextWriter output, TextWriter error)
    {
        if (!TryLoad(file, error, "dump-flows", out var tables))
        {
            return 1;
        }

        output.Write(tables.DumpFlows(withStats));
        return 0;
    }

    /// <summary>Reads and installs a flow file, reporting every problem on <paramref name="error"/>.</summary>
    internal static bool TryLoad(FileInfo file, TextWriter error, string command, out OpenFlowTables tables)
    {
        string text;
        try
        {
            text = FlowFileText.Read(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{command}: {FileErrors.Describe(file.ToString(), e)}");
            tables = new OpenFlowTables();
            return false;
        }

        return TryLoad(text, file.Name, error, out tables);
    }

    /// <summary>Installs flows given as text (a file's or the embedded firewall's), reporting every bad line.</summary>
    internal static bool TryLoad(string text, string sourceName, TextWriter error, out OpenFlowTables tables)
    {
        tables = new OpenFlowTables();
        try
        {
            tables.AddFlows(text, sourceName);
            return true;
        }
        catch (FlowSyntaxException e)
        {
            foreach (var bad in e.Errors)
            {
                error.WriteLine(bad.ToString());
            }

            return false;
        }
    }
}
