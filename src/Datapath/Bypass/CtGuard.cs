using Datapath.Actions;
using Datapath.Caches;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Bypass;

/// <summary>
/// The check a bypass flow runs right after its ct action (DESIGN.md, recirculation bypass): the
/// recirculated megaflow's match on the conntrack fields (ct_state, ct_zone, ct_mark, ct_label,
/// key words 1 to 3). Every other field it matched is the packet's own and cannot change between
/// packets of one exact key, so a packet that passes would have hit that megaflow after recirculating;
/// one that fails recirculates with <see cref="FallbackRecircId"/>, exactly as without the bypass.
/// </summary>
public sealed class CtGuard : IConntrackGuard
{
    private readonly ulong _mask1, _value1, _mask2, _value2, _mask3, _value3;

    public CtGuard(Megaflow recirculated, uint fallbackRecircId)
    {
        ArgumentNullException.ThrowIfNull(recirculated);
        Recirculated = recirculated;
        FallbackRecircId = fallbackRecircId;
        ref readonly var mask = ref recirculated.Mask;
        ref readonly var value = ref recirculated.Key;
        _mask1 = mask[1];
        _value1 = value[1];
        _mask2 = mask[2];
        _value2 = value[2];
        _mask3 = mask[3];
        _value3 = value[3];
    }

    /// <summary>The megaflow the packet would hit after recirculating; credited with each packet that passes.</summary>
    public Megaflow Recirculated { get; }

    /// <summary>The recirculation id the original flow's recirc action carried.</summary>
    public uint FallbackRecircId { get; }

    /// <summary>True when the packet's conntrack fields (as ct just set them) satisfy the recirculated megaflow's match.</summary>
    public bool Passes(in PacketMetadata metadata)
    {
        // The same packing as FlowKey's word 1 (ct_state 0-7, ct_zone 16-31, ct_mark 32-63) and words 2-3 (ct_label).
        ulong word1 = (byte)metadata.CtState | ((ulong)metadata.CtZone << 16) | ((ulong)metadata.CtMark << 32);
        return (word1 & _mask1) == _value1
            && ((ulong)(metadata.CtLabel >> 64) & _mask2) == _value2
            && ((ulong)metadata.CtLabel & _mask3) == _value3;
    }

    /// <summary>The guard as the ct fields of a flow key would read: for traces and tests.</summary>
    public bool Passes(in FlowKey key) => (key[1] & _mask1) == _value1 && (key[2] & _mask2) == _value2 && (key[3] & _mask3) == _value3;
}
