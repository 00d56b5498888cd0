using System.CommandLine;
using Bench.Commands;
using Host.Commands;

namespace Bench;

/// <summary>The ovs-actors-bench executable: the benchmark commands, apart from the product's own executable.</summary>
public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Parses and runs one command line, writing to <paramref name="output"/> and <paramref name="error"/> (tests pass string writers).</summary>
    internal static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("ovs-actors-bench: measurements of the ovs-actors datapath.");
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(CtBenchCommand.Create());
        root.Subcommands.Add(CtMemoryCommand.Create());
        root.Subcommands.Add(ReferencePcapsCommand.Create());
        root.Subcommands.Add(HandoffBenchCommand.Create());
        root.Subcommands.Add(BenchNodeCommand.Create());
        var parsed = root.Parse(args);
        if (ParseErrors.Report(parsed, args, "ovs-actors-bench", error))
        {
            return 2;
        }

        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }
}
