using System.CommandLine;
using Host.Commands;

namespace Host;

/// <summary>The ovs-actors executable: one subcommand per job; `run` is the default.</summary>
public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Parses and runs one command line, writing to <paramref name="output"/> and <paramref name="error"/> (tests pass string writers).</summary>
    internal static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var run = RunCommand.Create();
        var root = new RootCommand("ovs-actors: the Open vSwitch userspace datapath as Akka.NET actors.");
        foreach (var option in run.Options)
        {
            root.Options.Add(option);
        }

        root.Action = run.Action;
        root.Subcommands.Add(run);
        root.Subcommands.Add(ParsePcapCommand.Create());
        root.Subcommands.Add(DumpFlowsCommand.Create());
        root.Subcommands.Add(TraceCommand.Create());
        root.Subcommands.Add(CtPcapCommand.Create());
        root.Subcommands.Add(ReplayCommand.Create());
        root.Subcommands.Add(ReplayNodeCommand.Create());
        foreach (var command in ControlCommands.Create())
        {
            root.Subcommands.Add(command);
        }

        var parsed = root.Parse(args);
        if (ParseErrors.Report(parsed, args, "ovs-actors", error))
        {
            return 2;
        }

        // Ctrl+C cancels the running command's token; `run` then stops its ports and prints its summary, which may take longer than the default 2 s.
        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = TimeSpan.FromSeconds(30) });
    }
}
