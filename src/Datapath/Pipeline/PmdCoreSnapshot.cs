using Datapath.Stats;

namespace Datapath.Pipeline;

/// <summary>
/// A core's counters at one moment, copied for another owner (pmd-stats-show, metrics): its owner
/// reads these instead of reaching into the core's parts. Every packet received is accounted for
/// once: <c>Pipeline.PacketsReceived == PacketsSent + Drops (summed) + PacketsHeld</c>.
/// </summary>
/// <param name="Pipeline">The pipeline's counters (pmd-stats-show's block).</param>
/// <param name="Core">Drops and hand-offs of the core.</param>
/// <param name="Megaflows">Megaflows installed now.</param>
/// <param name="PacketsInFlight">Packets waiting for a conntrack answer.</param>
/// <param name="Drops">Packets dropped, one counter per reason of the datapath, named as the summary prints them.</param>
public sealed record PmdCoreSnapshot(PmdStats Pipeline, PmdCoreStats Core, int Megaflows, long PacketsInFlight, IReadOnlyDictionary<string, long> Drops)
{
    /// <summary>Packets sent at least once (an output, or the userspace action), each counted once.</summary>
    public long PacketsSent { get; init; }

    /// <summary>Packets the core holds now: waiting for a conntrack answer, or fragments waiting for their datagram.</summary>
    public long PacketsHeld { get; init; }

    /// <summary>Copies handed to ports (a packet output to two ports counts twice).</summary>
    public long Outputs { get; init; }

    /// <summary>Copies handed to the userspace action (OpenFlow's controller).</summary>
    public long ToUserspace { get; init; }

    /// <summary>Packets whose headers stopped short of what their type promises, by reason: not drops (they go on with what was parsed), as Open vSwitch's miniflow_extract goes on.</summary>
    public IReadOnlyDictionary<string, long> Malformed { get; init; } = new Dictionary<string, long>();
}
