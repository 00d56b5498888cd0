namespace Datapath.Actions;

/// <summary>Which side of a connection nat(...) translates (OVS NAT_ACTION_SRC / NAT_ACTION_DST).</summary>
public enum NatKind : byte
{
    /// <summary>Bare <c>nat</c>: translate packets of connections already set up for NAT, set up none.</summary>
    Existing,

    /// <summary><c>nat(src=...)</c>: the source of the original direction.</summary>
    Source,

    /// <summary><c>nat(dst=...)</c>: the destination of the original direction.</summary>
    Destination,
}

/// <summary>The flags of nat(...) (NX_NAT_F_PERSISTENT, NX_NAT_F_PROTO_HASH, NX_NAT_F_PROTO_RANDOM).</summary>
[Flags]
public enum NatFlags : byte
{
    None = 0,

    /// <summary>The address depends on the client's address alone, not on a per-process salt.</summary>
    Persistent = 1,

    /// <summary>The first port tried comes from a hash of the connection (the default).</summary>
    Hash = 2,

    /// <summary>The first port tried is random.</summary>
    Random = 4,
}

/// <summary>
/// The nat(...) argument of a ct action (the analogue of OVS_CT_ATTR_NAT and OVS's struct
/// nat_action_info_t): which side, the address range (both ends inclusive; <see cref="HasAddress"/>
/// false means keep the address), the port range (0 when none: ports are kept when free, as Open
/// vSwitch does) and the flags. An immutable value, compared by value.
/// </summary>
public sealed record NatArgs
{
    /// <summary>Bare nat: apply existing translations only.</summary>
    public static NatArgs Existing { get; } = new();

    public NatKind Kind { get; init; }

    public bool HasAddress { get; init; }

    /// <summary>Both addresses are IPv6 (else IPv4, in the low 32 bits).</summary>
    public bool IsIpv6 { get; init; }

    public UInt128 MinAddress { get; init; }

    public UInt128 MaxAddress { get; init; }

    /// <summary>First port of the range, or 0 when the rule gave none.</summary>
    public ushort MinPort { get; init; }

    public ushort MaxPort { get; init; }

    public NatFlags Flags { get; init; }

    /// <summary>True when the rule gave a port range (OVS NAT_ACTION_SRC_PORT / NAT_ACTION_DST_PORT).</summary>
    public bool HasPorts => MinPort != 0;

    /// <summary>True when a commit with these arguments sets up a translation.</summary>
    public bool SetsUpTranslation => Kind != NatKind.Existing;
}
