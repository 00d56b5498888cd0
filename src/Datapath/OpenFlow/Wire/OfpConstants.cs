namespace Datapath.OpenFlow.Wire;

/// <summary>OpenFlow wire versions (ofp_header.version).</summary>
public static class OfpVersion
{
    public const byte Of10 = 1;
    public const byte Of11 = 2;
    public const byte Of12 = 3;
    public const byte Of13 = 4;
    public const byte Of14 = 5;
    public const byte Of15 = 6;

    /// <summary>Every version this switch speaks, as a hello version bitmap (bit N: version N).</summary>
    public const uint Supported = (1u << Of10) | (1u << Of11) | (1u << Of12) | (1u << Of13) | (1u << Of14) | (1u << Of15);

    public static bool IsSupported(byte version) => version is >= Of10 and <= Of15;

    /// <summary>"OpenFlow13" for 4, as ovs-ofctl -O names versions.</summary>
    public static string Name(byte version) => version switch
    {
        Of10 => "OpenFlow10",
        Of11 => "OpenFlow11",
        Of12 => "OpenFlow12",
        Of13 => "OpenFlow13",
        Of14 => "OpenFlow14",
        Of15 => "OpenFlow15",
        _ => "0x" + version.ToString("x2", System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// Port numbers in their OpenFlow 1.1+ 32-bit form (OFPP_*); OpenFlow 1.0's 16-bit reserved
/// ports 0xff00..0xffff map onto 0xffffff00..0xffffffff.
/// </summary>
public static class OfpPort
{
    public const uint Max = 0xffffff00;
    public const uint InPort = 0xfffffff8;
    public const uint Table = 0xfffffff9;
    public const uint Normal = 0xfffffffa;
    public const uint Flood = 0xfffffffb;
    public const uint All = 0xfffffffc;
    public const uint Controller = 0xfffffffd;
    public const uint Local = 0xfffffffe;

    /// <summary>OFPP_ANY (1.1+) and OFPP_NONE (1.0): no port.</summary>
    public const uint Any = 0xffffffff;

    public static uint From10(ushort port) => port >= 0xff00 ? 0xffff0000u | port : port;

    public static ushort To10(uint port) => port >= Max ? (ushort)(port & 0xffff) : port > 0xff00 ? (ushort)0xff00 : (ushort)port;
}

/// <summary>Nicira's vendor/experimenter id and the extension numbers Open vSwitch uses.</summary>
public static class Nicira
{
    public const uint VendorId = 0x00002320;

    /// <summary>ONF's experimenter id (used by a few OpenFlow 1.3 extensions).</summary>
    public const uint OnfId = 0x4f4e4600;

    // NXT_* message subtypes.
    public const uint RoleRequest = 10;
    public const uint RoleReply = 11;
    public const uint SetFlowFormat = 12;
    public const uint FlowMod = 13;
    public const uint FlowRemoved = 14;
    public const uint FlowModTableId = 15;
    public const uint SetPacketInFormat = 16;
    public const uint PacketIn = 17;
    public const uint FlowAge = 18;
    public const uint SetAsyncConfig = 19;
    public const uint SetControllerId = 20;

    // NXST_* statistics subtypes.
    public const uint StatsFlow = 0;
    public const uint StatsAggregate = 1;

    // NXFF_* flow formats.
    public const uint FlowFormatOpenFlow10 = 0;
    public const uint FlowFormatNxm = 2;

    // NXPIF_* packet-in formats.
    public const uint PacketInStandard = 0;
    public const uint PacketInNxt = 1;
    public const uint PacketInNxt2 = 2;
}

/// <summary>OFPR_* packet-in reasons (OpenFlow 1.3 numbering: 0 no_match, 1 action, 2 invalid_ttl; 1.4+ adds 3..5).</summary>
public enum PacketInReason : byte
{
    NoMatch = 0,
    Action = 1,
    InvalidTtl = 2,
    ActionSet = 3,
    Group = 4,
    PacketOut = 5,
}

/// <summary>OFPFC_* commands.</summary>
public enum FlowModCommand : byte
{
    Add = 0,
    Modify = 1,
    ModifyStrict = 2,
    Delete = 3,
    DeleteStrict = 4,
}
