using Datapath.Conntrack;

namespace Actors.Conntrack;

/// <summary>
/// The dpctl/ct-* settings of a shard: the user's values over all shards (what ct-get-maxconns and
/// ct-get-limits print), and the share of each limit this shard enforces, ceil(limit / shards) as
/// at start-up. Kept across an operator reset (the new table gets them again).
/// </summary>
public sealed partial class ConntrackShard
{
    private readonly Dictionary<ushort, int> _zoneLimits = [];
    private int? _maxConnections;
    private int? _defaultZoneLimit;
    private bool? _tcpSequenceCheck;

    private void Configure(ConfigureConntrack message)
    {
        _maxConnections = message.MaxConnections ?? _maxConnections;
        _tcpSequenceCheck = message.TcpSequenceCheck ?? _tcpSequenceCheck;
        _defaultZoneLimit = message.DefaultZoneLimit ?? _defaultZoneLimit;
        foreach (var zone in message.ZoneLimits)
        {
            _zoneLimits[zone.Zone] = zone.Limit;
        }

        foreach (ushort zone in message.RemovedZones)
        {
            _zoneLimits[zone] = -1;
        }

        ApplySettings(Table);
    }

    /// <summary>The user's settings on <paramref name="table"/>, each limit as this shard's share.</summary>
    private void ApplySettings(ConnectionTable table)
    {
        if (_maxConnections is { } max)
        {
            table.MaxConnections = ShareOf(max);
        }

        if (_tcpSequenceCheck is { } check)
        {
            table.TcpSequenceCheck = check;
        }

        if (_defaultZoneLimit is { } limit)
        {
            table.DefaultZoneLimit = ShareOf(limit);
        }

        foreach (var (zone, zoneLimit) in _zoneLimits)
        {
            if (zoneLimit < 0)
            {
                table.RemoveZoneLimit(zone);
            }
            else
            {
                table.SetZoneLimit(zone, ShareOf(zoneLimit));
            }
        }
    }

    private ConntrackLimits Limits(ushort[]? zones)
    {
        var own = UserZoneLimits();
        IEnumerable<ushort> asked = zones is null ? own.Keys.Order() : zones;
        var reports = asked.Select(z => new ZoneLimitReport(z, own.TryGetValue(z, out int l) ? l : UserDefaultZoneLimit, Table.CountInZone(z))).ToArray();
        return new ConntrackLimits(Id, _maxConnections ?? Settings.ConnectionLimit, Table.Count, Table.TcpSequenceCheck, UserDefaultZoneLimit, reports);
    }

    private int UserDefaultZoneLimit => _defaultZoneLimit ?? 0;

    /// <summary>The zones with a limit of their own, as the user set them (configuration, then commands).</summary>
    private Dictionary<ushort, int> UserZoneLimits()
    {
        var limits = new Dictionary<ushort, int>(Settings.ZoneLimits);
        foreach (var (zone, limit) in _zoneLimits)
        {
            if (limit < 0)
            {
                limits.Remove(zone);
            }
            else
            {
                limits[zone] = limit;
            }
        }

        return limits;
    }

    private int ShareOf(int limit) => (int)(((long)limit + Settings.Shards - 1) / Settings.Shards);
}
