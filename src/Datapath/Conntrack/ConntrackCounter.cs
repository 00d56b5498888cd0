namespace Datapath.Conntrack;

/// <summary>
/// Named conntrack counters: one per reason a packet is invalid or dropped, plus lifecycle events.
/// The invalid reasons mirror where Open vSwitch's conn_key_extract / conn_update give up.
/// </summary>
public enum ConntrackCounter
{
    /// <summary>Not an error: the input was parsed and tracked.</summary>
    None = 0,

    // ---- invalid: the packet could not be keyed (conn_key_extract failed) ----
    NotIp,
    Fragment,
    TruncatedL3,
    L3Checksum,
    TruncatedL4,
    L4Checksum,
    BadTcpHeader,
    BadUdpLength,
    PortZero,
    UnsupportedIcmp,
    BadIcmpError,

    // ---- invalid: keyed, but conntrack refused it ----
    IcmpErrorWithoutConnection,
    InvalidNew,
    TcpInvalidFlags,
    TcpOutOfWindow,

    // ---- drops ----
    GlobalLimitDrop,
    ZoneLimitDrop,

    // ---- lifecycle ----
    Created,
    Expired,
    Replaced,
    Flushed,

    // ---- NAT and policies ----

    /// <summary>A commit with nat(src=...) or nat(dst=...) found no free reply tuple: nothing committed, the packet goes on untranslated (OVS "tuple space exhaustion").</summary>
    NatExhausted,

    /// <summary>Packets whose headers a translation rewrote (the first one and every later one of both directions).</summary>
    NatTranslated,

    /// <summary>A commit named a timeout policy the table does not know: the zone's policy or the defaults applied.</summary>
    UnknownTimeoutPolicy,

    // ---- NAT across shards (ConnectionTable.Nat) ----

    /// <summary>A translated connection created here whose reply tuple another shard reserved for it.</summary>
    NatReplyTupleElsewhere,

    /// <summary>Packets showing a reply tuple reserved here for another shard's connection: answered "owned elsewhere", their sender runs them at the owner.</summary>
    NatOwnedElsewhere,
}
