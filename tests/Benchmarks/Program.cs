using Benchmarks.Support;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace Benchmarks;

public static class Program
{
    /// <summary>
    /// BenchmarkDotNet's switcher (for example <c>--filter '*' --job short</c>), or
    /// <c>--check-allocations</c> for a quick exact check that no benchmark allocates.
    /// </summary>
    public static int Main(string[] args)
    {
        if (args is ["--check-allocations"])
        {
            return AllocationCheck.Run(Console.Out) == 0 ? 0 : 1;
        }

        // The generated project builds the whole graph the defaults come from (src/Host reads the
        // embedded configuration): allow more than BenchmarkDotNet's two minutes on a busy machine.
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(10)));
        return 0;
    }
}
