namespace Benchmarks.Support;

/// <summary>Setup-time sanity checks: a benchmark whose workload is not what it claims must not report a number.</summary>
internal static class Check
{
    public static void That(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException("Benchmark setup check failed: " + what + ".");
        }
    }
}
