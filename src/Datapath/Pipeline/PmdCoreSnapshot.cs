using Datapath.Stats;

namespace Datapath.Pipeline;

/// <summary>
/// A core's counters at one moment, copied for another owner (pmd-stats-show, metrics): its owner
/// reads these instead of reaching into the core's parts.
/// </summary>
/// <param name="Pipeline">The pipeline's counters (pmd-stats-show's block).</param>
/// <param name="Core">Drops and hand-offs of the core.</param>
/// <param name="Megaflows">Megaflows installed now.</param>
/// <param name="PacketsInFlight">Packets waiting for a conntrack answer.</param>
/// <param name="Drops">One counter per drop reason of the datapath, named as the summary prints them.</param>
public sealed record PmdCoreSnapshot(PmdStats Pipeline, PmdCoreStats Core, int Megaflows, long PacketsInFlight, IReadOnlyDictionary<string, long> Drops);
