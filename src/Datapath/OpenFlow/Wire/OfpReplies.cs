namespace Datapath.OpenFlow.Wire;

// What the switch reports, in the form the encoder writes (Open vSwitch's ofputil_phy_port,
// ofputil_flow_stats, ofputil_port_stats...). Plain values.

/// <summary>One port as port-desc, features and port_status describe it.</summary>
/// <param name="HardwareAddress">The port's MAC address (48 bits).</param>
/// <param name="LinkUp">False: OFPPS_LINK_DOWN.</param>
public sealed record PortInfo(uint Number, string Name, ulong HardwareAddress, bool LinkUp = true);

/// <summary>One port's counters (OFPMP_PORT_STATS); -1 means unknown (all ones on the wire).</summary>
public sealed record PortStatsEntry(
    uint Number,
    long RxPackets,
    long TxPackets,
    long RxBytes,
    long TxBytes,
    long RxDropped,
    long TxDropped,
    long RxErrors,
    long TxErrors,
    TimeSpan Duration);

/// <summary>One flow with its statistics (OFPMP_FLOW entry).</summary>
/// <param name="IdleAge">Time since the flow last matched a packet.</param>
/// <param name="HardAge">Time since the flow was added or last modified.</param>
public sealed record FlowStatsEntry(FlowEntry Entry, long Packets, long Bytes, TimeSpan Duration, TimeSpan IdleAge, TimeSpan HardAge);

/// <summary>OFPMP_TABLE entry: the flows in a table and how many lookups it served and matched.</summary>
public sealed record TableCounters(byte Table, int ActiveCount, long Lookups, long Matched);

/// <summary>A packet sent to the controllers (packet_in).</summary>
/// <param name="Metadata">The pipeline fields at the time (in_port, metadata, registers, conntrack fields): what the packet_in's match reports.</param>
public sealed record PacketInMessage(PacketInReason Reason, byte Table, ulong Cookie, OfMatch Metadata, byte[] Frame, int TotalLength);

/// <summary>A flow that left its table (flow_removed).</summary>
public sealed record FlowRemovedMessage(FlowEntry Entry, FlowRemovedReason Reason, TimeSpan Duration, long Packets, long Bytes);

/// <summary>OFPRR_*.</summary>
public enum FlowRemovedReason : byte
{
    IdleTimeout = 0,
    HardTimeout = 1,
    Delete = 2,
}

/// <summary>OFPPR_*.</summary>
public enum PortStatusReason : byte
{
    Add = 0,
    Delete = 1,
    Modify = 2,
}
