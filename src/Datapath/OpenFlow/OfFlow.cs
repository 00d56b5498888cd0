using System.Runtime.CompilerServices;
using Datapath.Flow;

namespace Datapath.OpenFlow;

/// <summary>The eight 32-bit OpenFlow registers reg0..reg7 (Open vSwitch's flow->regs).</summary>
[InlineArray(Count)]
public struct OfRegisters
{
    public const int Count = 8;

    private uint _element0;
}

/// <summary>
/// What OpenFlow matching sees: the datapath flow key plus the fields that exist only during
/// translation, registers and metadata (the analogue of Open vSwitch's struct flow as ofproto
/// sees it). Registers and metadata start at zero on a fresh packet and are restored from the
/// frozen continuation after recirculation, so they are fully determined by the datapath key
/// and never appear in a megaflow mask.
/// </summary>
public struct OfFlow : IEquatable<OfFlow>
{
    public FlowKey Key;
    public OfRegisters Regs;
    public ulong Metadata;

    public OfFlow(in FlowKey key)
    {
        Key = key;
    }

    public readonly bool Equals(OfFlow other)
    {
        if (Metadata != other.Metadata || !FlowKey.Equals(in Key, in other.Key))
        {
            return false;
        }

        for (int i = 0; i < OfRegisters.Count; i++)
        {
            if (Regs[i] != other.Regs[i])
            {
                return false;
            }
        }

        return true;
    }

    public override readonly bool Equals(object? obj) => obj is OfFlow other && Equals(other);

    public override readonly int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Key.GetHashCode());
        h.Add(Metadata);
        for (int i = 0; i < OfRegisters.Count; i++)
        {
            h.Add(Regs[i]);
        }

        return h.ToHashCode();
    }

    public static bool operator ==(OfFlow a, OfFlow b) => a.Equals(b);

    public static bool operator !=(OfFlow a, OfFlow b) => !a.Equals(b);

    /// <summary>Clears the conntrack fields (the original-direction tuple too), as Open vSwitch's flow_clear_conntrack() does after ct().</summary>
    public void ClearConntrack() => Key.ClearConntrack();
}
