using Actors.Pmd;

namespace Host.Control;

/// <summary>
/// Which receive queues each PMD serves: queue q of every port goes to PMD q mod PMDs (the
/// assignment of the port actors' receive queues).
/// </summary>
internal static class RxqLayout
{
    public static IReadOnlyList<(uint Port, int Queue)>[] Assign(IReadOnlyList<uint> ports, int queuesPerPort, int pmds)
    {
        var rows = new List<(uint, int)>[Math.Max(pmds, 1)];
        for (int p = 0; p < rows.Length; p++)
        {
            rows[p] = [];
        }

        foreach (uint port in ports.Order())
        {
            for (int q = 0; q < queuesPerPort; q++)
            {
                rows[q % rows.Length].Add((port, q));
            }
        }

        return rows;
    }
}

/// <summary>
/// Each PMD's busy share between two pmd-rxq-show calls (or since the control channel started, or
/// since pmd-stats-clear): processing time over wall time. Shared by the server's connections.
/// </summary>
internal sealed class PmdUsage
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, (long Ns, long At)> _last = [];
    private long _since = System.Diagnostics.Stopwatch.GetTimestamp();

    public void Reset()
    {
        lock (_lock)
        {
            _last.Clear();
            _since = System.Diagnostics.Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Percent busy per PMD number since the previous sample.</summary>
    public Dictionary<int, double> Sample(IReadOnlyList<PmdStatistics> pmds)
    {
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        var usage = new Dictionary<int, double>();
        lock (_lock)
        {
            foreach (var pmd in pmds)
            {
                var (ns, at) = _last.GetValueOrDefault(pmd.Pmd, (0, _since));
                long busy = pmd.Pipeline.ProcessingNs >= ns ? pmd.Pipeline.ProcessingNs - ns : pmd.Pipeline.ProcessingNs;
                double wallNs = System.Diagnostics.Stopwatch.GetElapsedTime(at, now).TotalNanoseconds;
                usage[pmd.Pmd] = wallNs <= 0 ? 0 : Math.Min(100, 100.0 * busy / wallNs);
                _last[pmd.Pmd] = (pmd.Pipeline.ProcessingNs, now);
            }
        }

        return usage;
    }
}
