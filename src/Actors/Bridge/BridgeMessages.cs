using Actors.PacketPath;
using Actors.Pmd;
using Akka.Actor;
using Datapath.OpenFlow;

namespace Actors.Bridge;

// The bridge's messages are local (INoSerializationVerificationNeeded): they carry actor
// references, pools or the PMDs' counters. The flow commands and their answers hold plain values
// only, so a control channel on another node can make them wire messages without a change of shape.

/// <summary>ovs-ofctl add-flows: every flow of <paramref name="Text"/> or none. Answer: <see cref="FlowsChanged"/> or <see cref="FlowsRejected"/>.</summary>
/// <param name="SourceName">The file name errors are reported against (FILE:LINE:COLUMN).</param>
public sealed record AddFlows(string Text, string SourceName) : INoSerializationVerificationNeeded;

/// <summary>
/// ovs-ofctl replace-flows: the flows of <paramref name="Text"/> become the whole table in one
/// version (each PMD gets exactly one <see cref="UseFlows"/> for it), or nothing changes.
/// Answer: <see cref="FlowsChanged"/> or <see cref="FlowsRejected"/>.
/// </summary>
public sealed record ReplaceFlows(string Text, string SourceName) : INoSerializationVerificationNeeded;

/// <summary>Like <see cref="ReplaceFlows"/>, with flows already parsed (a configuration's flow file, a replay). Answer: <see cref="FlowsChanged"/>.</summary>
public sealed record SetFlows(IReadOnlyList<FlowEntry> Entries) : INoSerializationVerificationNeeded;

/// <summary>
/// ovs-ofctl del-flows [--strict]: <paramref name="Match"/> is "[table=N,][priority=P,]MATCH"
/// (null or empty: every flow). Loose selection removes every flow at least as specific as the
/// match in the table (all tables without table=); strict removes the one flow with exactly this
/// priority and match. Answer: <see cref="FlowsChanged"/> or <see cref="FlowsRejected"/>.
/// </summary>
public sealed record DeleteFlows(string? Match, bool Strict) : INoSerializationVerificationNeeded
{
    public static DeleteFlows All { get; } = new(null, false);
}

/// <summary>
/// ovs-ofctl mod-flows [--strict]: <paramref name="Flow"/> is "[table=N,][priority=P,]MATCH
/// actions=ACTIONS"; the selected flows (as <see cref="DeleteFlows"/> selects) get the new actions.
/// Answer: <see cref="FlowsChanged"/> or <see cref="FlowsRejected"/>.
/// </summary>
public sealed record ModifyFlows(string Flow, bool Strict) : INoSerializationVerificationNeeded;

/// <summary>A flow command was applied. <paramref name="Affected"/> rules changed; 0 leaves the version (and the PMDs) alone.</summary>
public sealed record FlowsChanged(long Version, int Affected) : INoSerializationVerificationNeeded;

/// <summary>A flow command was refused and changed nothing; each error reads "FILE:LINE:COLUMN: MESSAGE".</summary>
public sealed record FlowsRejected(IReadOnlyList<string> Errors) : INoSerializationVerificationNeeded;

/// <summary>Rules left the table by themselves (idle or hard timeout); published on the event stream.</summary>
public sealed record FlowsExpired(long Version, IReadOnlyList<(FlowEntry Entry, string Reason)> Rules) : INoSerializationVerificationNeeded;

/// <summary>
/// ovs-ofctl dump-flows [MATCH] (--no-stats when <paramref name="WithStats"/> is false): with
/// <paramref name="Match"/> ("[table=N,]MATCH"), only the flows it selects loosely, as del-flows
/// would. Answer: <see cref="FlowsDumped"/>, or <see cref="FlowsRejected"/> for a bad match.
/// </summary>
public sealed record DumpFlows(bool WithStats = true, string? Match = null) : INoSerializationVerificationNeeded;

/// <summary>
/// The dump: one line per rule in ovs-ofctl's format, counters summed over every PMD's report.
/// <paramref name="PmdsMissing"/> PMDs did not answer in time; their traffic since their previous
/// report is not in the counters.
/// </summary>
public sealed record FlowsDumped(long Version, string Text, int PmdsMissing) : INoSerializationVerificationNeeded;

/// <summary>Asks for the table as it is now. Answer: <see cref="FlowTableSnapshot"/>.</summary>
public sealed record GetFlowTable : INoSerializationVerificationNeeded
{
    public static GetFlowTable Instance { get; } = new();

    private GetFlowTable()
    {
    }
}

/// <summary>The bridge's current version, rules and port numbers.</summary>
public sealed record FlowTableSnapshot(long Version, IReadOnlyList<FlowEntry> Entries, IReadOnlyList<uint> Ports) : INoSerializationVerificationNeeded;

/// <summary>Adds a port, or replaces the one with the same number. Answer: <see cref="PortsChanged"/>.</summary>
public sealed record AddPort(PortLink Link) : INoSerializationVerificationNeeded;

/// <summary>Removes a port (no answer needed; <see cref="PortsChanged"/> is sent anyway).</summary>
public sealed record RemovePort(uint Port) : INoSerializationVerificationNeeded;

/// <summary>Makes <paramref name="Links"/> the whole port list in one step. Answer: <see cref="PortsChanged"/>.</summary>
public sealed record SetPorts(IReadOnlyList<PortLink> Links) : INoSerializationVerificationNeeded;

/// <summary>The bridge's port numbers after a port command.</summary>
public sealed record PortsChanged(IReadOnlyList<uint> Ports) : INoSerializationVerificationNeeded;

/// <summary>
/// Adds a PMD to the bridge: it gets the current ports and flows at once and every change after.
/// The bridge watches it and forgets it when it stops. Answer: <see cref="PmdRegistered"/>.
/// </summary>
public sealed record RegisterPmd(IActorRef Pmd) : INoSerializationVerificationNeeded;

/// <summary>The PMD was registered and sent the current snapshot (flows of <paramref name="Version"/>).</summary>
public sealed record PmdRegistered(IActorRef Pmd, long Version) : INoSerializationVerificationNeeded;

/// <summary>
/// dpif-netdev/pmd-stats-show: the counters of every PMD that answered in time. Answers the
/// bridge's <see cref="GetPmdStatistics"/>, which it fans out to its PMDs.
/// </summary>
public sealed record PmdStatisticsGathered(IReadOnlyList<PmdStatistics> Pmds, int PmdsMissing) : INoSerializationVerificationNeeded;
