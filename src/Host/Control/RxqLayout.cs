using System.Diagnostics;
using System.Globalization;
using System.Text;

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

/// <summary>One line of pmd-rxq-show: a queue, and its share of its PMD's time (null: not measured yet).</summary>
internal sealed record RxqUsage(string Port, int Queue, int? UsagePercent);

/// <summary>One PMD's block of pmd-rxq-show.</summary>
internal sealed record PmdRxqUsage(int Pmd, IReadOnlyList<RxqUsage> Queues, int? OverheadPercent)
{
    /// <summary>Open vSwitch's core_id: the CPU the PMD's thread is pinned to, or the PMD's number.</summary>
    public int Core { get; init; } = Pmd;
}

/// <summary>
/// ovs-appctl dpif-netdev/pmd-rxq-show as Open vSwitch prints it (lib/dpif-netdev.c
/// pmd_info_show_rxq): per PMD, each queue's processing time as a share of the PMD's time over the
/// last minute of readings ("pmd usage"), and the busy time no queue accounts for ("overhead":
/// conntrack answers and recirculations that resume outside a receive batch).
/// </summary>
internal static class RxqText
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>Usage per PMD between the oldest reading of the last minute and <paramref name="now"/>.</summary>
    public static IReadOnlyList<PmdRxqUsage> Measure(
        IReadOnlyList<DatapathSample> history,
        DatapathSample now,
        IReadOnlyList<int> pmds,
        IReadOnlyList<(uint Port, int Queue)>[] layout,
        IReadOnlyDictionary<uint, string> names)
    {
        var start = history.FirstOrDefault(s => Stopwatch.GetElapsedTime(s.At, now.At) <= Window && s.At < now.At);
        double wallNs = start is null ? 0 : Stopwatch.GetElapsedTime(start.At, now.At).TotalNanoseconds;
        var result = new List<PmdRxqUsage>();
        foreach (int pmd in pmds)
        {
            var queues = new List<RxqUsage>();
            long rxqBusy = 0;
            foreach (var (port, queue) in layout[pmd % layout.Length].OrderBy(r => names.GetValueOrDefault(r.Port, r.Port.ToString(CultureInfo.InvariantCulture)), StringComparer.Ordinal).ThenBy(r => r.Queue))
            {
                long ns = Delta(now.RxqNs, start?.RxqNs, (pmd, port, queue));
                rxqBusy += ns;
                queues.Add(new RxqUsage(names.GetValueOrDefault(port, port.ToString(CultureInfo.InvariantCulture)), queue, Percent(ns, wallNs)));
            }

            long busy = Delta(now.PmdBusyNs, start?.PmdBusyNs, pmd);
            result.Add(new PmdRxqUsage(pmd, queues, Percent(Math.Max(0, busy - rxqBusy), wallNs)));
        }

        return result;
    }

    public static string Format(IReadOnlyList<PmdRxqUsage> pmds)
    {
        var sb = new StringBuilder();
        foreach (var pmd in pmds)
        {
            sb.Append(CultureInfo.InvariantCulture, $"pmd thread numa_id 0 core_id {pmd.Core}:\n  isolated : false\n");
            foreach (var q in pmd.Queues)
            {
                sb.Append(CultureInfo.InvariantCulture, $"  port: {q.Port,-16}  queue-id: {q.Queue,2} (enabled)   pmd usage: {Show(q.UsagePercent)}\n");
            }

            if (pmd.Queues.Count > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"  overhead: {Show(pmd.OverheadPercent)}\n");
            }
        }

        return sb.ToString();
    }

    private static string Show(int? percent) => percent is { } p ? $"{p,2} %" : "NOT AVAIL";

    private static int? Percent(long ns, double wallNs) => wallNs <= 0 ? null : (int)Math.Min(100, ns * 100 / wallNs);

    private static long Delta<TKey>(IReadOnlyDictionary<TKey, long> now, IReadOnlyDictionary<TKey, long>? start, TKey key) =>
        Math.Max(0, now.GetValueOrDefault(key) - (start?.GetValueOrDefault(key) ?? 0));
}
