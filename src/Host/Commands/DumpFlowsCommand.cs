using System.CommandLine;
using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Tables;

namespace Host.Commands;

/// <summary>
/// `dump-flows FLOWFILE`: parses an ovs-ofctl add-flows file, installs it and prints the tables
/// back as `ovs-ofctl dump-flows` does. A bad line prints FILE:LINE:COLUMN: message for every
/// bad line and exits 1; nothing is installed.
/// </summary>
internal static class DumpFlowsCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FLOWFILE") { Description = "Flows in ovs-ofctl add-flows syntax." };
        var noStats = new Option<bool>("--no-stats") { Description = "Leave out cookie, duration, table 0 and counters, as ovs-ofctl --no-stats." };
        var command = new Command("dump-flows", "Parse a flow file and print it back in ovs-ofctl's normalised form.") { file, noStats };
        command.SetAction(parse => Run(parse.GetValue(file)!, !parse.GetValue(noStats), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

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
            text = File.ReadAllText(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{command}: {e.Message}");
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
