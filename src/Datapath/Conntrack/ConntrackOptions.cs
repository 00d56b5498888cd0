namespace Datapath.Conntrack;

/// <summary>Configuration of one <see cref="ConnectionTable"/>.</summary>
public sealed record ConntrackOptions
{
    /// <summary>OVS DEFAULT_N_CONN_LIMIT.</summary>
    public const int DefaultConnectionLimit = 3_000_000;

    /// <summary>Committed connections allowed in this table; a commit beyond it is a counted drop.</summary>
    public int ConnectionLimit { get; init; } = DefaultConnectionLimit;

    /// <summary>Optional per-zone limits (zone -> connections); zones not listed are limited only globally.</summary>
    public IReadOnlyDictionary<ushort, int> ZoneLimits { get; init; } = new Dictionary<ushort, int>();

    public ConntrackTimeouts Timeouts { get; init; } = ConntrackTimeouts.Default;

    /// <summary>Entries allocated up front (the table grows by doubling, up to the limit).</summary>
    public int InitialCapacity { get; init; } = 1024;
}
