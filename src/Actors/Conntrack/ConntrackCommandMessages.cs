using Actors.Wire;
using Datapath.Conntrack;

namespace Actors.Conntrack;

// The dpctl/ct-* commands over the shards (ovs-appctl dpctl/ct-set-maxconns and friends): the
// control channel sends one message to every shard and adds up the answers. Limits are the user's
// values over all shards; each shard enforces its share, ceil(limit / shards), as at start-up
// (ConntrackSettings.ShardOptions), and reports the user's value back.

/// <summary>One zone's limit over all shards (ct-set-limits zone=Z,limit=N).</summary>
public readonly record struct ZoneLimitSetting(ushort Zone, int Limit);

/// <summary>
/// Changes the shard's settings (each field when given): ct-set-maxconns, ct-enable/disable-tcp-seq-chk,
/// ct-set-limits (default and zones), ct-del-limits (<paramref name="RemovedZones"/>). Answered with
/// <see cref="ConntrackLimits"/> (the settings after the change).
/// </summary>
public sealed record ConfigureConntrack(int? MaxConnections, bool? TcpSequenceCheck, int? DefaultZoneLimit, ZoneLimitSetting[] ZoneLimits, ushort[] RemovedZones) : IWireMessage;

/// <summary>Asks for the shard's settings and counts, with the connections of <paramref name="Zones"/> (all zones with a limit when null); answered with <see cref="ConntrackLimits"/>.</summary>
public sealed record GetConntrackLimits(ushort[]? Zones) : IWireMessage;

/// <summary>
/// One shard's settings (the user's values over all shards) and counts: its connections, and per
/// zone asked (<see cref="ZoneLimitReport.Count"/> this shard's connections of the zone).
/// </summary>
public sealed record ConntrackLimits(int Shard, int MaxConnections, int Connections, bool TcpSequenceCheck, int DefaultZoneLimit, ZoneLimitReport[] Zones) : IWireMessage;

/// <summary>Counts the shard's connections (or one zone's) per protocol for ct-stats-show; answered with <see cref="ConnectionsCounted"/>.</summary>
public sealed record CountConnections(ushort? Zone) : IWireMessage;

/// <summary>One shard's connections per protocol.</summary>
public sealed record ConnectionsCounted(int Shard, ConntrackProtocolCounts Counts) : IWireMessage;

/// <summary>
/// flush-conntrack with its filter (zone, mark, labels, 5-tuples in both directions), as
/// <see cref="ConntrackFlushFilter.Parse"/> reads <paramref name="Filter"/>; answered with <see cref="ConnectionsFlushed"/>.
/// </summary>
public sealed record FlushConnectionsMatching(string[] Filter) : IWireMessage;
