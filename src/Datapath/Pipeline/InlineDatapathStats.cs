namespace Datapath.Pipeline;

/// <summary>Drops and hand-offs of an <see cref="InlineDatapath"/>, one named counter per reason.</summary>
public sealed class InlineDatapathStats
{
    public long RecirculationDepthExceeded;
    public long ConntrackLimitDrops;
    public long FragmentsHeld;
    public long FragmentsDropped;
    public long DatagramsReassembled;
    public long PoolExhausted;
}
