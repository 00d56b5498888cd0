namespace Datapath.Pipeline;

/// <summary>Drops and hand-offs of a <see cref="PmdCore"/>, one named counter per reason.</summary>
public sealed class PmdCoreStats
{
    public long RecirculationDepthExceeded;
    public long ConntrackLimitDrops;
    public long FragmentsHeld;
    public long FragmentsDropped;
    public long DatagramsReassembled;
    public long PoolExhausted;

    /// <summary>Conntrack requests sent (at most 32 inputs each).</summary>
    public long ConntrackRequests;

    /// <summary>Packets dropped because their conntrack answer never came (the stage gave up on it).</summary>
    public long ConntrackAnswersLost;

    /// <summary>Answers for a request no longer outstanding, or for an input answered already.</summary>
    public long StaleConntrackAnswers;

    /// <summary>Zeroes every counter (pmd-stats-clear).</summary>
    public void Clear()
    {
        RecirculationDepthExceeded = ConntrackLimitDrops = FragmentsHeld = FragmentsDropped = DatagramsReassembled = PoolExhausted = 0;
        ConntrackRequests = ConntrackAnswersLost = StaleConntrackAnswers = 0;
    }

    /// <summary>A copy to hand to another owner.</summary>
    public PmdCoreStats Copy() => (PmdCoreStats)MemberwiseClone();
}
