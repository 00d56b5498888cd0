using Datapath.Packets;

namespace Datapath.Conntrack;

/// <summary>
/// What ct() gives back for one packet: the new ct_state, ct_zone, ct_mark, ct_label and the
/// original-direction tuple (what OVS's write_ct_md writes into the packet metadata). A plain value.
/// </summary>
public struct ConntrackResult
{
    public CtState State;
    public ushort Zone;
    public uint Mark;
    public UInt128 Label;
    public ConntrackTuple OriginalTuple;

    /// <summary>
    /// The commit could not create the connection because the global or the zone's limit was reached:
    /// the datapath drops the packet (counted in <see cref="ConntrackCounter.GlobalLimitDrop"/> or
    /// <see cref="ConntrackCounter.ZoneLimitDrop"/>). The state is still new|trk, as in OVS.
    /// </summary>
    public bool Drop;

    /// <summary>Writes the result into a packet's metadata, as write_ct_md does.</summary>
    public readonly void ApplyTo(ref PacketMetadata metadata)
    {
        metadata.CtState = State;
        metadata.CtZone = Zone;
        metadata.CtMark = Mark;
        metadata.CtLabel = Label;
    }
}
