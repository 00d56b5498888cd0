namespace Datapath.Packets;

/// <summary>
/// Per-packet metadata that travels with the packet through recirculation and actor hops
/// (the analogue of Open vSwitch's struct pkt_metadata). Recirculation depth lives here,
/// not in thread-local state, so it survives a hop between actors.
/// </summary>
public struct PacketMetadata
{
    public uint InPort;
    public uint RecircId;
    public byte RecircDepth;
    public CtState CtState;
    public ushort CtZone;
    public uint CtMark;
    public UInt128 CtLabel;

    /// <summary>RSS-style hash of the packet; valid only when <see cref="HashValid"/>.</summary>
    public uint Hash;
    public bool HashValid;

    /// <summary>Resets everything but the input port, as a fresh receive does.</summary>
    public void Reset(uint inPort)
    {
        this = default;
        InPort = inPort;
    }
}
