using Actors.Pmd;
using Akka.Actor;

namespace Actors.Bridge;

// Questions about every PMD's datapath flows and counters that the bridge fans out (as it does
// for dump-flows), so that a control channel asks one actor and never waits on the packet path.

/// <summary>dpctl/dump-flows over every PMD. Answer: <see cref="DatapathFlowsDumped"/>.</summary>
public sealed record DumpDatapathFlows : INoSerializationVerificationNeeded
{
    public static DumpDatapathFlows Instance { get; } = new();

    private DumpDatapathFlows()
    {
    }
}

/// <summary>Each PMD's megaflows, by PMD number; <paramref name="PmdsMissing"/> PMDs did not answer in time.</summary>
public sealed record DatapathFlowsDumped(IReadOnlyList<MegaflowsDumped> Pmds, int PmdsMissing) : INoSerializationVerificationNeeded;

/// <summary>dpctl/del-flows on every PMD. Answer: <see cref="DatapathFlowsDeleted"/>.</summary>
public sealed record DeleteDatapathFlows : INoSerializationVerificationNeeded
{
    public static DeleteDatapathFlows Instance { get; } = new();

    private DeleteDatapathFlows()
    {
    }
}

/// <summary>Megaflows removed over every PMD that answered in time.</summary>
public sealed record DatapathFlowsDeleted(int Removed, int PmdsMissing) : INoSerializationVerificationNeeded;

/// <summary>pmd-stats-clear on every PMD (the bridge forwards <see cref="ClearPmdStatistics"/>). Answer: <see cref="PmdsCleared"/>.</summary>
public sealed record ClearAllPmdStatistics : INoSerializationVerificationNeeded
{
    public static ClearAllPmdStatistics Instance { get; } = new();

    private ClearAllPmdStatistics()
    {
    }
}

/// <summary><paramref name="Cleared"/> PMDs cleared their counters; <paramref name="PmdsMissing"/> did not answer in time.</summary>
public sealed record PmdsCleared(int Cleared, int PmdsMissing) : INoSerializationVerificationNeeded;
