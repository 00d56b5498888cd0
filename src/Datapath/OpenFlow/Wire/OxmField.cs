using Datapath.OpenFlow.Syntax;

namespace Datapath.OpenFlow.Wire;

/// <summary>How an NXM/OXM field's wire value maps onto <see cref="OfFlow"/> when it is not a plain copy.</summary>
internal enum OxmMapping : byte
{
    /// <summary>The value is the <see cref="OfField"/>'s value (right-aligned).</summary>
    Plain,

    /// <summary>NXM_OF_IN_PORT: OpenFlow 1.0's 16-bit port.</summary>
    InPort16,

    /// <summary>OXM VLAN_VID: 12-bit VID plus OFPVID_PRESENT (0x1000), i.e. the TCI's low 13 bits.</summary>
    VlanVid,

    /// <summary>OXM VLAN_PCP: the TCI's top 3 bits.</summary>
    VlanPcp,

    /// <summary>NXM_NX_COOKIE: not a packet field (the flow_mod's cookie and mask in NXM requests).</summary>
    Cookie,

    /// <summary>A field this switch does not have (tunnels, MPLS, conjunction...): refused by name.</summary>
    Unsupported,
}

/// <summary>
/// One NXM/OXM field header (class, field number, value size) and where it goes (Open vSwitch's
/// nxm_field table in lib/nx-match.c, from meta-flow.h's NXM/OXM lines). Immutable.
/// </summary>
internal sealed record OxmField(ushort Class, byte Number, int Size, string Name, OfField? Field, OxmMapping Mapping, bool Maskable)
{
    public const ushort NxmOf = 0x0000;
    public const ushort NxmNx = 0x0001;
    public const ushort OxmBasic = 0x8000;
    public const ushort OxmPacketRegs = 0x8001;
    public const ushort Experimenter = 0xffff;

    /// <summary>class &lt;&lt; 16 | field &lt;&lt; 9: the header without the mask bit and length.</summary>
    public uint Key => ((uint)Class << 16) | ((uint)Number << 9);

    public uint Header(bool masked) => Key | (masked ? 0x100u : 0u) | (uint)(masked ? Size * 2 : Size);
}
