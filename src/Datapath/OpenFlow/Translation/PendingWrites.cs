using Datapath.Actions;
using Datapath.Flow;

namespace Datapath.OpenFlow.Translation;

/// <summary>
/// Header rewrites not yet emitted (the analogue of Open vSwitch's commit_odp_actions): the
/// translator changes the OpenFlow flow as actions run and records which bits were written;
/// before anything that sends or inspects the packet (output, ct, recirc) the writes become
/// masked set actions, VLAN changes become pop/push.
/// </summary>
internal struct PendingWrites
{
    /// <summary>Bits of the datapath key written since the last commit.</summary>
    public FlowKey Dirty;

    /// <summary>The VLAN tags were pushed, popped or changed.</summary>
    public bool VlanChanged;

    /// <summary>The packet's key as the datapath will see it after the actions emitted so far.</summary>
    public FlowKey Base;

    public void Commit(in FlowKey current, ref FlowKey wildcards, List<DatapathAction> actions)
    {
        if (VlanChanged)
        {
            CommitVlan(in current, ref wildcards, actions);
            VlanChanged = false;
        }

        if (Dirty.IsZero)
        {
            return;
        }

        Emit(actions, SetFieldTarget.EthSrc, current.EthSrc, Dirty.EthSrc);
        Emit(actions, SetFieldTarget.EthDst, current.EthDst, Dirty.EthDst);
        Emit(actions, SetFieldTarget.Ipv4Src, current.NwSrc, Dirty.NwSrc);
        Emit(actions, SetFieldTarget.Ipv4Dst, current.NwDst, Dirty.NwDst);
        Emit(actions, SetFieldTarget.Ipv6Src, current.Ipv6Src, Dirty.Ipv6Src);
        Emit(actions, SetFieldTarget.Ipv6Dst, current.Ipv6Dst, Dirty.Ipv6Dst);
        Emit(actions, SetFieldTarget.NwTos, current.NwTos, Dirty.NwTos);
        Emit(actions, SetFieldTarget.NwTtl, current.NwTtl, Dirty.NwTtl);
        Emit(actions, SetFieldTarget.TpSrc, current.TpSrc, Dirty.TpSrc);
        Emit(actions, SetFieldTarget.TpDst, current.TpDst, Dirty.TpDst);
        for (int w = 0; w < FlowKey.WordCount; w++)
        {
            Base.Words[w] = (Base.Words[w] & ~Dirty.Words[w]) | (current.Words[w] & Dirty.Words[w]);
        }

        Dirty = default;
    }

    private static void Emit(List<DatapathAction> actions, SetFieldTarget target, UInt128 value, UInt128 mask)
    {
        if (mask != UInt128.Zero)
        {
            actions.Add(DatapathAction.SetField(new SetFieldArgs(target, value & mask, mask)));
        }
    }

    // Pop every tag the packet has, push the tags it should have (inner first): what the
    // packet has depends on the packet, so both tags' bits join the mask.
    private void CommitVlan(in FlowKey current, ref FlowKey wildcards, List<DatapathAction> actions)
    {
        wildcards.Words[6] = ulong.MaxValue;
        if (Base.Vlan0Tci == current.Vlan0Tci && Base.Vlan0Tpid == current.Vlan0Tpid
            && Base.Vlan1Tci == current.Vlan1Tci && Base.Vlan1Tpid == current.Vlan1Tpid)
        {
            return;
        }

        if ((Base.Vlan0Tci & FlowKey.VlanPresent) != 0)
        {
            actions.Add(DatapathAction.PopVlan());
            if ((Base.Vlan1Tci & FlowKey.VlanPresent) != 0)
            {
                actions.Add(DatapathAction.PopVlan());
            }
        }

        if ((current.Vlan1Tci & FlowKey.VlanPresent) != 0)
        {
            actions.Add(DatapathAction.PushVlan(current.Vlan1Tpid, (ushort)(current.Vlan1Tci & ~FlowKey.VlanPresent)));
        }

        if ((current.Vlan0Tci & FlowKey.VlanPresent) != 0)
        {
            actions.Add(DatapathAction.PushVlan(current.Vlan0Tpid, (ushort)(current.Vlan0Tci & ~FlowKey.VlanPresent)));
        }

        Base.Words[6] = current.Words[6];
    }
}
