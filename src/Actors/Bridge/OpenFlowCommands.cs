using Akka.Actor;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Wire;

namespace Actors.Bridge;

// What an OpenFlow connection asks of the bridge, and what the bridge tells the connections that
// subscribed (packet_in, flow_removed, port_status). The same table and counters as the text
// commands; local messages (they carry decoded OpenFlow values and actor references).

/// <summary>A decoded flow_mod. Answer: <see cref="FlowModApplied"/>, or <see cref="OpenFlowRefused"/> with the error to send.</summary>
public sealed record ApplyFlowMod(FlowMod Mod) : INoSerializationVerificationNeeded;

/// <summary>The flow_mod was carried out (OpenFlow sends nothing back on success).</summary>
public sealed record FlowModApplied(long Version, int Affected) : INoSerializationVerificationNeeded;

/// <summary>A request was refused: the OpenFlow error and a message for the log.</summary>
public sealed record OpenFlowRefused(OfpErrorKind Kind, string Message) : INoSerializationVerificationNeeded;

/// <summary>
/// Flow statistics of the flows <paramref name="Filter"/> selects loosely, after the PMDs' counters
/// were gathered, as dump-flows does. Answer: <see cref="FlowStatisticsGathered"/>.
/// </summary>
public sealed record GetFlowStatistics(FlowFilter Filter) : INoSerializationVerificationNeeded;

/// <summary>The selected flows with their counters, and every table's counters.</summary>
public sealed record FlowStatisticsGathered(IReadOnlyList<FlowStatsEntry> Flows, IReadOnlyList<TableCounters> Tables) : INoSerializationVerificationNeeded;

/// <summary>The ports with their descriptions and counters (features, port-desc, port statistics). Answer: <see cref="PortsDescribed"/>.</summary>
public sealed record DescribePorts : INoSerializationVerificationNeeded
{
    public static DescribePorts Instance { get; } = new();

    private DescribePorts()
    {
    }
}

public sealed record PortsDescribed(ulong DatapathId, IReadOnlyList<PortInfo> Ports, IReadOnlyList<PortStatsEntry> Counters) : INoSerializationVerificationNeeded;

/// <summary>
/// An OpenFlow connection wants the asynchronous messages (packet_in, flow_removed, port_status);
/// the bridge watches it and forgets it when it stops.
/// </summary>
public sealed record SubscribeOpenFlow(IActorRef Connection) : INoSerializationVerificationNeeded;

/// <summary>
/// An OpenFlow 1.0-1.2 connection wants table misses as packet-ins (Open vSwitch's default for
/// those versions), or no longer does; while any does, the PMDs send misses to the controllers.
/// </summary>
public sealed record WantTableMisses(IActorRef Connection, bool Want) : INoSerializationVerificationNeeded;

/// <summary>A rule with send_flow_rem left the table.</summary>
public sealed record FlowRemovedNotice(FlowRemovedMessage Message) : INoSerializationVerificationNeeded;

/// <summary>A port was added to or removed from the bridge.</summary>
public sealed record PortStatusNotice(PortStatusReason Reason, PortInfo Port) : INoSerializationVerificationNeeded;
