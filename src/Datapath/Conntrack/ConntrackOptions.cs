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

    /// <summary>Whether TCP segments must fall inside the tracked window (dpctl/ct-enable-tcp-seq-chk; on in Open vSwitch).</summary>
    public bool TcpSequenceCheck { get; init; } = true;

    /// <summary>
    /// The salt of NAT's hashes and the seed of its random ports (Open vSwitch's hash_basis, random per
    /// process), or null for a random one. Fix it to make choices inside port or address ranges repeatable.
    /// </summary>
    public uint? NatSeed { get; init; }

    /// <summary>Named timeout policies (ovs-vsctl add-zone-tp's attributes), for ct(commit,timeout=NAME) and zones.</summary>
    public IReadOnlyDictionary<string, ConntrackTimeouts> TimeoutPolicies { get; init; } = new Dictionary<string, ConntrackTimeouts>();

    /// <summary>The policy of each zone that has one (zone -> policy name), as add-zone-tp sets it.</summary>
    public IReadOnlyDictionary<ushort, string> ZoneTimeoutPolicies { get; init; } = new Dictionary<ushort, string>();
}
