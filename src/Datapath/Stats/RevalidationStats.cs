using System.Globalization;
using System.Text;

namespace Datapath.Stats;

/// <summary>
/// Revalidation counters of one PMD (what `ovs-appctl upcall/show` reports per revalidator, plus
/// removals by reason). Owned by the PMD.
/// </summary>
public sealed class RevalidationStats
{
    /// <summary>Revalidation passes run.</summary>
    public long Passes;

    /// <summary>Statistics pushes (each revalidation pass pushes too; this counts the standalone ones).</summary>
    public long StatisticsPushes;

    /// <summary>Megaflows judged, summed over passes.</summary>
    public long Checked;

    /// <summary>Megaflows removed because they would no longer translate the same.</summary>
    public long RemovedChanged;

    /// <summary>Megaflows removed because they were idle.</summary>
    public long RemovedIdle;

    public void Add(in RevalidationResult result)
    {
        Passes++;
        Checked += result.Checked;
        RemovedChanged += result.RemovedChanged;
        RemovedIdle += result.RemovedIdle;
    }

    /// <summary>Writes the revalidation lines of a pmd-stats-show block.</summary>
    public void Format(StringBuilder sb)
    {
        ArgumentNullException.ThrowIfNull(sb);
        var c = CultureInfo.InvariantCulture;
        sb.Append(c, $"  revalidations: {Passes}\n");
        sb.Append(c, $"  megaflows checked: {Checked}\n");
        sb.Append(c, $"  megaflows removed (changed): {RemovedChanged}\n");
        sb.Append(c, $"  megaflows removed (idle): {RemovedIdle}\n");
        sb.Append(c, $"  statistics pushes: {StatisticsPushes}\n");
    }
}
