namespace Datapath.OpenFlow;

/// <summary>OFPFF_* flow_mod flags, as a rule keeps them (OpenFlow 1.0's EMERG has no counterpart here).</summary>
[Flags]
public enum FlowModFlags : ushort
{
    None = 0,
    SendFlowRemoved = 1,
    CheckOverlap = 2,
    ResetCounts = 4,
    NoPacketCounts = 8,
    NoByteCounts = 16,
}
