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

    /// <summary>
    /// The original-direction tuple of the packet's connection (OVS pkt_metadata ct_orig_tuple; the
    /// ct_nw_src, ct_ipv6_src... match fields): addresses (IPv4 in the low 32 bits), ports (ICMP:
    /// type and code) and protocol, 0 when conntrack had no tuple. Valid while <see cref="CtState"/> is set.
    /// </summary>
    public UInt128 CtTupleSrc;
    public UInt128 CtTupleDst;
    public ushort CtTupleSrcPort;
    public ushort CtTupleDstPort;
    public byte CtTupleProto;
    public bool CtTupleIpv6;

    /// <summary>RSS-style hash of the packet; valid only when <see cref="HashValid"/>.</summary>
    public uint Hash;
    public bool HashValid;

    /// <summary>Forgets every conntrack field, as the ct_clear action does (OVS conntrack_clear).</summary>
    public void ClearConntrack()
    {
        CtState = CtState.None;
        CtZone = 0;
        CtMark = 0;
        CtLabel = UInt128.Zero;
        CtTupleSrc = UInt128.Zero;
        CtTupleDst = UInt128.Zero;
        CtTupleSrcPort = 0;
        CtTupleDstPort = 0;
        CtTupleProto = 0;
        CtTupleIpv6 = false;
    }

    /// <summary>Resets everything but the input port, as a fresh receive does.</summary>
    public void Reset(uint inPort)
    {
        this = default;
        InPort = inPort;
    }
}
