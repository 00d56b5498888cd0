using Datapath.Conntrack;

namespace Actors.Conntrack;

/// <summary>What the conntrack shard actors are configured with (HOCON `datapath.conntrack`, read and validated by the Host).</summary>
/// <param name="Shards">Shard actors in the cluster (a configured 0 is resolved to the core count).</param>
/// <param name="ConnectionLimit">Committed connections allowed over all shards.</param>
/// <param name="ZoneLimits">Per-zone limits over all shards.</param>
/// <param name="SweepInterval">Time between two sweeps of one shard.</param>
/// <param name="SweepBudget">Expired connections one sweep slice may remove.</param>
/// <param name="Timeouts">Expiry timeouts.</param>
public sealed record ConntrackSettings(
    int Shards,
    int ConnectionLimit,
    IReadOnlyDictionary<ushort, int> ZoneLimits,
    TimeSpan SweepInterval,
    int SweepBudget,
    ConntrackTimeouts Timeouts)
{
    /// <summary>Host each shard on a PMD of its entity's node (host-on-pmds), see <see cref="ConntrackHosts"/>.</summary>
    public required bool HostOnPmds { get; init; }

    /// <summary>Whether TCP segments must fall inside the tracked window (tcp-sequence-check).</summary>
    public required bool TcpSequenceCheck { get; init; }

    /// <summary>Named timeout policies (timeout-policies), each the default timeouts with the attributes given.</summary>
    public required IReadOnlyDictionary<string, ConntrackTimeouts> TimeoutPolicies { get; init; }

    /// <summary>The policy of each zone that has one (zone-timeout-policies).</summary>
    public required IReadOnlyDictionary<ushort, string> ZoneTimeoutPolicies { get; init; }

    /// <summary>
    /// The shard's clock is the time the batches carry and nothing else (a capture's replay: expiry
    /// follows the capture alone, as on the inline datapath). Off (the default): the latest batch's
    /// time moved on by the scheduler's time since, so that idle connections expire.
    /// </summary>
    public bool FrameClock { get; init; }

    /// <summary>
    /// How often each shard sends its replica on another node what changed (replication): a node that
    /// dies takes at most this much of its shards' changes with it. Null (off): no replicas; a shard
    /// whose node dies starts empty elsewhere.
    /// </summary>
    public TimeSpan? Replication { get; init; }

    /// <summary>The limits are enforced per shard: each shard's table gets ceil(limit / shards) (connections spread evenly by hash).</summary>
    public ConntrackOptions ShardOptions()
    {
        var zones = new Dictionary<ushort, int>(ZoneLimits.Count);
        foreach (var (zone, limit) in ZoneLimits)
        {
            zones[zone] = ShareOf(limit);
        }

        return Options(ShareOf(ConnectionLimit), zones);
    }

    /// <summary>One table holding every connection (the inline datapath, ct-pcap): the whole limits, not a shard's share.</summary>
    public ConntrackOptions SingleTableOptions() => Options(ConnectionLimit, ZoneLimits);

    private ConntrackOptions Options(int connectionLimit, IReadOnlyDictionary<ushort, int> zoneLimits) => new()
    {
        ConnectionLimit = connectionLimit,
        ZoneLimits = zoneLimits,
        Timeouts = Timeouts,
        TcpSequenceCheck = TcpSequenceCheck,
        TimeoutPolicies = TimeoutPolicies,
        ZoneTimeoutPolicies = ZoneTimeoutPolicies,
    };

    private int ShareOf(int limit) => (int)(((long)limit + Shards - 1) / Shards);
}
