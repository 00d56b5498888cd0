using Actors.Wire;

namespace Bench.Nodes;

// What a two-process bench (handoff-bench, ct-bench --nodes 2) asks its second process, node B.

/// <summary>Asks node B's /user/bench-node for <see cref="BenchNodeReport"/>.</summary>
public sealed record GetBenchNodeReport : IWireMessage
{
    public static GetBenchNodeReport Instance { get; } = new();

    private GetBenchNodeReport()
    {
    }
}

/// <summary>Node B's memory now and since its last reset (<see cref="ResetBenchNodePeaks"/>).</summary>
/// <param name="RssBytes">Resident set size now.</param>
/// <param name="PeakRssBytes">The highest resident set size since the reset (Linux VmHWM; 0 where unknown).</param>
/// <param name="AllocatedBytes">Bytes the process allocated on the managed heap since the reset.</param>
public sealed record BenchNodeReport(long RssBytes, long PeakRssBytes, long AllocatedBytes) : IWireMessage;

/// <summary>Starts node B's memory readings over (answered with the <see cref="BenchNodeReport"/> at that moment).</summary>
public sealed record ResetBenchNodePeaks : IWireMessage
{
    public static ResetBenchNodePeaks Instance { get; } = new();

    private ResetBenchNodePeaks()
    {
    }
}
