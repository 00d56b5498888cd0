using System.Globalization;
using System.Text;
using Actors.Configuration;

namespace Host.MainJob;

/// <summary>The main job's summary: the configuration, throughput, pmd-stats-show, and per-port counters.</summary>
internal static class JobReport
{
    public static string Format(DatapathSettings settings, JobResult result)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        var g = settings.Generator;
        var stats = result.Pipeline.Stats;
        sb.Append(c, $"main job: {g.Packets} frames of {g.FrameSize} bytes, {g.Connections} bidirectional UDP connections, ports 1 <-> 2 cross-connected\n");
        sb.Append(c, $"emc: {settings.EmcEntries} entries, insert 1 in {settings.EmcInsertInvProb}\n");
        double seconds = result.Elapsed.TotalSeconds;
        sb.Append(c, $"elapsed: {seconds:F3} s, {stats.PacketsReceived / seconds / 1e6:F2} Mpps including generation, ");
        sb.Append(c, $"{stats.PacketsReceived / (stats.ProcessingNs / 1e9) / 1e6:F2} Mpps in the pipeline\n\n");
        stats.Format(sb, "main");
        sb.Append(c, $"  megaflows installed: {result.Pipeline.Classifier.Count} in {result.Pipeline.Classifier.SubtableCount} subtable(s)\n");
        sb.Append(c, $"  malformed frames: {result.Pipeline.ExtractionStats.Total}\n\n");
        for (int port = 1; port < result.Ports.Length; port++)
        {
            var p = result.Ports[port];
            sb.Append(c, $"port {port}: rx pkts={p.RxPackets}, bytes={p.RxBytes}; tx pkts={p.TxPackets}, bytes={p.TxBytes}\n");
        }

        sb.Append(c, $"dropped: {result.Ports[0].Dropped}\n");
        return sb.ToString();
    }
}
