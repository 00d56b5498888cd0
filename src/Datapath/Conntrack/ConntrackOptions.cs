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

    /// <summary>Whether TCP segments must fall inside the tracked window (dpctl/ct-enable-tcp-seq-chk; on in Open vSwitch).</summary>
    public required bool TcpSequenceCheck { get; init; }

    /// <summary>
    /// The salt of NAT's hashes and the seed of its random ports (Open vSwitch's hash_basis, random per
    /// process), or null for a random one. Fix it to make choices inside port or address ranges repeatable.
    /// </summary>
    public uint? NatSeed { get; init; }

    /// <summary>Named timeout policies (ovs-vsctl add-zone-tp's attributes), for ct(commit,timeout=NAME) and zones.</summary>
    public required IReadOnlyDictionary<string, ConntrackTimeouts> TimeoutPolicies { get; init; }

    /// <summary>The policy of each zone that has one (zone -> policy name), as add-zone-tp sets it.</summary>
    public required IReadOnlyDictionary<ushort, string> ZoneTimeoutPolicies { get; init; }
}
