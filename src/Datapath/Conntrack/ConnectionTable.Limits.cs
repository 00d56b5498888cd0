namespace Datapath.Conntrack;

/// <summary>
/// Run-time settings of the table that dpctl changes (cold paths): the connection limit
/// (ct-set-maxconns / ct-get-maxconns, ct-get-nconns), per-zone limits (ct-set-limits,
/// ct-get-limits, ct-del-limits; a default limit for zones without their own, 0 meaning none) and
/// TCP sequence checking (ct-enable-tcp-seq-chk / ct-disable-tcp-seq-chk).
/// </summary>
public sealed partial class ConnectionTable
{
    private readonly Dictionary<ushort, int> _zoneLimits = [];
    private readonly Dictionary<ushort, int> _ownZoneLimits = [];
    private int _connectionLimit;
    private int _defaultZoneLimit;
    private bool _tcpSequenceCheck;

    /// <summary>Committed connections allowed (ct-set-maxconns); a commit beyond it is a counted drop.</summary>
    public int MaxConnections
    {
        get => _connectionLimit;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _connectionLimit = value;
        }
    }

    /// <summary>Whether TCP segments must fall inside the tracked window (on by default, as in Open vSwitch).</summary>
    public bool TcpSequenceCheck
    {
        get => _tcpSequenceCheck;
        set => _tcpSequenceCheck = value;
    }

    /// <summary>The limit of zones without their own (0: none), ct-set-limits default=N.</summary>
    public int DefaultZoneLimit
    {
        get => _defaultZoneLimit;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _defaultZoneLimit = value;
            RebuildZoneLimits();
        }
    }

    /// <summary>Zones with a limit of their own, and their limits.</summary>
    public IReadOnlyDictionary<ushort, int> ZoneLimits => _ownZoneLimits;

    /// <summary>Sets a zone's own limit (ct-set-limits zone=Z,limit=N); 0 means unlimited even under a default.</summary>
    public void SetZoneLimit(ushort zone, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        _ownZoneLimits[zone] = limit;
        RebuildZoneLimits();
    }

    /// <summary>Removes a zone's own limit (ct-del-limits): the default applies again.</summary>
    public bool RemoveZoneLimit(ushort zone)
    {
        bool removed = _ownZoneLimits.Remove(zone);
        RebuildZoneLimits();
        return removed;
    }

    /// <summary>The limit that applies to <paramref name="zone"/> (its own, else the default; 0 for none).</summary>
    public int ZoneLimitOf(ushort zone) => _ownZoneLimits.TryGetValue(zone, out int limit) ? limit : _defaultZoneLimit;

    private void RebuildZoneLimits()
    {
        _zoneLimits.Clear();
        foreach (var (zone, limit) in _ownZoneLimits)
        {
            _zoneLimits[zone] = limit == 0 ? int.MaxValue : limit;
        }
    }

    /// <summary>True when a commit in <paramref name="zone"/> would exceed its limit.</summary>
    private bool ZoneFull(ushort zone)
    {
        if (_zoneLimits.Count == 0 && _defaultZoneLimit == 0)
        {
            return false;
        }

        int limit = _zoneLimits.TryGetValue(zone, out int own) ? own : _defaultZoneLimit;
        return limit > 0 && _zoneCounts[zone] >= limit;
    }
}
