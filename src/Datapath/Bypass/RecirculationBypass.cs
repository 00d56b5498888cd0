using Datapath.Caches;
using Datapath.Stats;

namespace Datapath.Bypass;

/// <summary>Makes the <see cref="IRecirculationBypass"/> of a mode: the one place that chooses by mode.</summary>
public static class RecirculationBypass
{
    /// <param name="mode">The configured mode.</param>
    /// <param name="emc">The PMD's EMC, or null when it is off (then <see cref="BypassMode.EmcOnly"/> has nowhere to live and runs as <see cref="BypassMode.PerConnection"/>).</param>
    /// <param name="stats">The PMD's counters, where the bypass counts its hits, installs and revocations.</param>
    /// <param name="watcher">Told of each per-connection bypass flow, so that its connection's conntrack owner revokes it; null for none.</param>
    /// <param name="maxConnectionFlows">The most per-connection bypass flows held (one per connection direction).</param>
    public static IRecirculationBypass Create(BypassMode mode, ExactMatchCache? emc, PmdStats stats, IBypassFlowWatcher? watcher, int maxConnectionFlows) => mode switch
    {
        BypassMode.Off => new NoBypass(),
        BypassMode.Megaflow => new MegaflowBypass(emc, stats),
        BypassMode.PerConnection => new PerConnectionBypass(maxConnectionFlows, stats, watcher),
        BypassMode.EmcOnly when emc is null => new PerConnectionBypass(maxConnectionFlows, stats, watcher),
        BypassMode.EmcOnly => new EmcOnlyBypass(emc, maxConnectionFlows, stats, watcher),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown bypass mode."),
    };
}
