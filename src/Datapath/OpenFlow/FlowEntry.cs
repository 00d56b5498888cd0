using Datapath.OpenFlow.Syntax;

namespace Datapath.OpenFlow;

/// <summary>
/// One parsed flow: where it goes, what it matches and what it does (the analogue of an
/// ovs-ofctl add-flow line, Open vSwitch's struct ofputil_flow_mod). Immutable; two entries are
/// equal when every field and every action is.
/// </summary>
public sealed record FlowEntry(byte Table, ushort Priority, ulong Cookie, ushort IdleTimeout, ushort HardTimeout, OfMatch Match, IReadOnlyList<OfAction> Actions)
{
    /// <summary>OFP_DEFAULT_PRIORITY.</summary>
    public const ushort DefaultPriority = 32768;

    /// <summary>The highest table number (255 means "all tables" in OpenFlow).</summary>
    public const byte MaxTable = 254;

    /// <summary>send_flow_rem, check_overlap, reset_counts, no_packet_counts, no_byte_counts (OFPFF_*).</summary>
    public FlowModFlags Flags { get; init; }

    public bool Equals(FlowEntry? other) =>
        other is not null && Table == other.Table && Priority == other.Priority && Cookie == other.Cookie
        && IdleTimeout == other.IdleTimeout && HardTimeout == other.HardTimeout && Flags == other.Flags
        && Match.Equals(other.Match) && Actions.SequenceEqual(other.Actions);

    public override int GetHashCode() => HashCode.Combine(Table, Priority, Cookie, Match, Actions.Count);

    /// <summary>The flow in add-flows syntax without statistics (ovs-ofctl --no-stats dump-flows).</summary>
    public override string ToString() => FlowDumpFormatter.FormatEntry(this);
}
