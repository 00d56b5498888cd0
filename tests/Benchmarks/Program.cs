using Benchmarks.Support;
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

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
