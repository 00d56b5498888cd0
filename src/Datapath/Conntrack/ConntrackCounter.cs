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
}
