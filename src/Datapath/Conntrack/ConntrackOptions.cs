namespace Datapath.Conntrack;

/// <summary>
/// Configuration of one <see cref="ConnectionTable"/>. The limits and timeouts come from the
/// configuration (HOCON `datapath.conntrack`, whose embedded default holds Open vSwitch's values):
/// no defaults here, so none is written twice. Tests take the embedded default's through their
/// Defaults helper.
/// </summary>
public sealed record ConntrackOptions
{
    /// <summary>Committed connections allowed in this table; a commit beyond it is a counted drop.</summary>
    public required int ConnectionLimit { get; init; }

    /// <summary>Per-zone limits (zone -> connections); zones not listed are limited only globally.</summary>
    public required IReadOnlyDictionary<ushort, int> ZoneLimits { get; init; }

    public required ConntrackTimeouts Timeouts { get; init; }

    /// <summary>Entries allocated up front (the table grows by doubling, up to the limit).</summary>
    public int InitialCapacity { get; init; } = 1024;
}
