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
    /// <summary>The limits are enforced per shard: each shard's table gets ceil(limit / shards) (connections spread evenly by hash).</summary>
    public ConntrackOptions ShardOptions()
    {
        var zones = new Dictionary<ushort, int>(ZoneLimits.Count);
        foreach (var (zone, limit) in ZoneLimits)
        {
            zones[zone] = ShareOf(limit);
        }

        return new ConntrackOptions { ConnectionLimit = ShareOf(ConnectionLimit), ZoneLimits = zones, Timeouts = Timeouts };
    }

    /// <summary>One table holding every connection (the inline datapath, ct-pcap): the whole limits, not a shard's share.</summary>
    public ConntrackOptions SingleTableOptions() => new() { ConnectionLimit = ConnectionLimit, ZoneLimits = ZoneLimits, Timeouts = Timeouts };

    private int ShareOf(int limit) => (int)(((long)limit + Shards - 1) / Shards);
}
