namespace Bench.Tests;

/// <summary>Runs one ovs-actors-bench command line in this process, its output and errors captured.</summary>
internal static class BenchCli
{
    public static (int Exit, string Output, string Error) Invoke(params string[] args)
    {
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter();
        int exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
