using Datapath.Conntrack.Nat;
using Datapath.Packets;

namespace Datapath.Conntrack;

/// <summary>
/// What ct() gives back for one packet: the new ct_state, ct_zone, ct_mark, ct_label, the
/// original-direction tuple (what OVS's write_ct_md writes into the packet metadata) and the
/// translation to apply to the packet (what OVS's nat_packet writes into it). A plain value.
/// </summary>
public struct ConntrackResult
{
    public CtState State;
    public ushort Zone;
    public uint Mark;
    public UInt128 Label;
    public ConntrackTuple OriginalTuple;

    /// <summary>The NAT rewrite of this packet (<see cref="NatRewrite.IsNone"/> when none).</summary>
    public NatRewrite Nat;

    /// <summary>
    /// The commit could not create the connection because the global or the zone's limit was reached:
    /// the datapath drops the packet (counted in <see cref="ConntrackCounter.GlobalLimitDrop"/> or
    /// <see cref="ConntrackCounter.ZoneLimitDrop"/>). The state is still new|trk, as in OVS.
    /// </summary>
    public bool Drop;

    /// <summary>
    /// The packet's tuple is the reply tuple of a translated connection that another table owns
    /// (<see cref="ConnectionTable.TryGetReplyOwner"/> names it): the answer is not final, the packet
    /// must be executed again by the owner. Never set by a table that reserved no such tuple.
    /// </summary>
    public bool OwnedElsewhere;

    /// <summary>With <see cref="OwnedElsewhere"/>: the placement hash of the owner's shard, where the packet goes next (<see cref="ConntrackInput.SentOnTo"/>).</summary>
    public uint OwnerHash;

    /// <summary>Writes the result into a packet's metadata, as write_ct_md does.</summary>
    public readonly void ApplyTo(ref PacketMetadata metadata)
    {
        metadata.CtState = State;
        metadata.CtZone = Zone;
        metadata.CtMark = Mark;
        metadata.CtLabel = Label;
        metadata.CtTupleSrc = OriginalTuple.Src;
        metadata.CtTupleDst = OriginalTuple.Dst;
        metadata.CtTupleSrcPort = OriginalTuple.SrcPort;
        metadata.CtTupleDstPort = OriginalTuple.DstPort;
        metadata.CtTupleProto = OriginalTuple.Protocol;
        metadata.CtTupleIpv6 = OriginalTuple.IsIpv6;
    }

    /// <summary>
    /// Applies the result to its packet: the metadata (<see cref="ApplyTo(ref PacketMetadata)"/>) and
    /// the NAT rewrite of its headers (<see cref="NatRewriter"/>), as OVS's conntrack_execute leaves a packet.
    /// </summary>
    public readonly void ApplyTo(Packet packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ApplyTo(ref packet.Metadata);
        if (!Nat.IsNone)
        {
            NatRewriter.Apply(packet, in Nat);
        }
    }
}
