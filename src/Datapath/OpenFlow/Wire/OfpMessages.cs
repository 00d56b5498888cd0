namespace Datapath.OpenFlow.Wire;

// The OpenFlow messages this switch understands, independent of the version they came in
// (Open vSwitch's struct ofputil_*). The decoder makes them from bytes; requests the switch
// receives and answers it sends. Immutable values.

/// <summary>Any decoded message: its transaction id is echoed in the reply.</summary>
public abstract record OfpMessage(uint Xid);

/// <summary>OFPT_HELLO; <paramref name="Versions"/> is the sender's version bitmap (just its header version when it sent none).</summary>
public sealed record HelloMessage(uint Xid, byte Version, uint Versions) : OfpMessage(Xid);

/// <summary>OFPT_ERROR as received (a controller telling us we erred).</summary>
public sealed record ErrorMessage(uint Xid, ushort Type, ushort Code) : OfpMessage(Xid);

public sealed record EchoRequest(uint Xid, byte[] Payload) : OfpMessage(Xid);

public sealed record EchoReply(uint Xid) : OfpMessage(Xid);

public sealed record FeaturesRequest(uint Xid) : OfpMessage(Xid);

public sealed record GetConfigRequest(uint Xid) : OfpMessage(Xid);

/// <summary>OFPT_SET_CONFIG: fragment handling (0 normal) and how much of a packet a table-miss or controller:65535 packet-in carries.</summary>
public sealed record SetConfig(uint Xid, ushort Flags, ushort MissSendLength) : OfpMessage(Xid);

public sealed record BarrierRequest(uint Xid) : OfpMessage(Xid);

/// <summary>OFPT_FLOW_MOD, or NXT_FLOW_MOD (NXM match), in one form.</summary>
/// <param name="Table">The table, or 255 for all (delete, modify) / unspecified (OpenFlow 1.0 add without the table-id extension: table 0).</param>
/// <param name="CookieMask">For modify and delete: which cookie bits must equal <paramref name="Cookie"/> (0: any cookie).</param>
/// <param name="OutPort">For delete: only flows that output to this port (<see cref="OfpPort.Any"/>: no restriction).</param>
public sealed record FlowMod(
    uint Xid,
    FlowModCommand Command,
    byte Table,
    ushort Priority,
    ulong Cookie,
    ulong CookieMask,
    ushort IdleTimeout,
    ushort HardTimeout,
    uint BufferId,
    uint OutPort,
    uint OutGroup,
    FlowModFlags Flags,
    OfMatch Match,
    IReadOnlyList<OfAction> Actions,
    byte Version) : OfpMessage(Xid);

/// <summary>OFPT_PACKET_OUT: <paramref name="Frame"/> (no buffers here) entering on <paramref name="InPort"/>, run through <paramref name="Actions"/>.</summary>
public sealed record PacketOut(uint Xid, uint BufferId, uint InPort, IReadOnlyList<OfAction> Actions, byte[] Frame) : OfpMessage(Xid);

/// <summary>Flow statistics or aggregate request (OFPMP_FLOW / OFPMP_AGGREGATE, or NXST_FLOW / NXST_AGGREGATE).</summary>
public sealed record FlowStatsRequest(uint Xid, bool Aggregate, bool Nicira, byte Table, uint OutPort, ulong Cookie, ulong CookieMask, OfMatch Match) : OfpMessage(Xid);

/// <summary>A multipart request without a body of interest: desc, table, port-desc, table-features.</summary>
public sealed record SimpleStatsRequest(uint Xid, StatsKind Kind) : OfpMessage(Xid);

/// <summary>OFPMP_PORT_STATS for one port or <see cref="OfpPort.Any"/>.</summary>
public sealed record PortStatsRequest(uint Xid, uint Port) : OfpMessage(Xid);

/// <summary>The multipart (statistics) kinds this switch answers.</summary>
public enum StatsKind : ushort
{
    Description = 0,
    Flow = 1,
    Aggregate = 2,
    Table = 3,
    Port = 4,
    Queue = 5,
    Group = 6,
    GroupDescription = 7,
    GroupFeatures = 8,
    Meter = 9,
    MeterConfig = 10,
    MeterFeatures = 11,
    TableFeatures = 12,
    PortDescription = 13,
}

/// <summary>NXT_SET_FLOW_FORMAT: OpenFlow 1.0 matches (0) or NXM (2) in later flow replies and removals.</summary>
public sealed record SetFlowFormat(uint Xid, uint Format) : OfpMessage(Xid);

/// <summary>NXT_FLOW_MOD_TABLE_ID: whether OpenFlow 1.0 flow_mods carry a table id in the command's high byte.</summary>
public sealed record FlowModTableId(uint Xid, bool Enable) : OfpMessage(Xid);

/// <summary>NXT_SET_PACKET_IN_FORMAT.</summary>
public sealed record SetPacketInFormat(uint Xid, uint Format) : OfpMessage(Xid);

/// <summary>NXT_SET_CONTROLLER_ID.</summary>
public sealed record SetControllerId(uint Xid, ushort Id) : OfpMessage(Xid);

/// <summary>OFPT_ROLE_REQUEST or NXT_ROLE_REQUEST (role in OpenFlow 1.2+ numbering: 0 no change, 1 equal, 2 master, 3 slave).</summary>
public sealed record RoleRequest(uint Xid, uint Role, ulong GenerationId, bool Nicira) : OfpMessage(Xid);

/// <summary>OFPT_GET_ASYNC_REQUEST.</summary>
public sealed record GetAsyncRequest(uint Xid) : OfpMessage(Xid);

/// <summary>OFPT_SET_ASYNC (OpenFlow 1.3 layout) or NXT_SET_ASYNC_CONFIG: per role (0 master/equal, 1 slave), which reasons are sent.</summary>
public sealed record SetAsync(uint Xid, uint[] PacketInMask, uint[] PortStatusMask, uint[] FlowRemovedMask) : OfpMessage(Xid);
