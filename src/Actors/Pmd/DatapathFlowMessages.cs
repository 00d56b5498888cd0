using Akka.Actor;

namespace Actors.Pmd;

// What the control channel asks of each PMD about its datapath flows (dpctl/dump-flows,
// dpctl/del-flows) and counters (pmd-stats-clear). The bridge fans them out; a PMD answers its
// gatherer. Local messages: they stay on the PMD's node.

/// <summary>dpctl/dump-flows: the PMD's megaflows, formatted by the PMD. Answer: <see cref="MegaflowsDumped"/>.</summary>
public sealed record DumpMegaflows : INoSerializationVerificationNeeded
{
    public static DumpMegaflows Instance { get; } = new();

    private DumpMegaflows()
    {
    }
}

/// <summary>One megaflow as dpctl/dump-flows shows it.</summary>
/// <param name="Match">The key and mask in datapath flow syntax (odp_flow_format).</param>
/// <param name="UsedMsAgo">Milliseconds since the last packet, or null when never used.</param>
/// <param name="TcpFlags">The TCP flags seen (OR of every packet's), 0 for none.</param>
/// <param name="Actions">The datapath actions in odp syntax.</param>
public sealed record MegaflowDescription(string Match, long Packets, long Bytes, long? UsedMsAgo, ushort TcpFlags, string Actions);

/// <summary>The megaflows of PMD <paramref name="Pmd"/>.</summary>
public sealed record MegaflowsDumped(int Pmd, IReadOnlyList<MegaflowDescription> Flows) : INoSerializationVerificationNeeded;

/// <summary>
/// dpctl/del-flows: removes every megaflow (and so every EMC entry pointing at one) once no
/// conntrack answer is outstanding, as revalidation does. Answer: <see cref="MegaflowsFlushed"/>.
/// </summary>
public sealed record FlushMegaflows : INoSerializationVerificationNeeded
{
    public static FlushMegaflows Instance { get; } = new();

    private FlushMegaflows()
    {
    }
}

/// <summary>PMD <paramref name="Pmd"/> removed <paramref name="Removed"/> megaflows.</summary>
public sealed record MegaflowsFlushed(int Pmd, int Removed) : INoSerializationVerificationNeeded;

/// <summary>dpif-netdev/pmd-stats-clear: the pipeline counters of pmd-stats-show start again from zero. Answer: <see cref="PmdStatisticsCleared"/>.</summary>
public sealed record ClearPmdStatistics : INoSerializationVerificationNeeded
{
    public static ClearPmdStatistics Instance { get; } = new();

    private ClearPmdStatistics()
    {
    }
}

/// <summary>PMD <paramref name="Pmd"/> cleared its counters.</summary>
public sealed record PmdStatisticsCleared(int Pmd) : INoSerializationVerificationNeeded;
