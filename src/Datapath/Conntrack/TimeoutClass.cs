namespace Datapath.Conntrack;

/// <summary>
/// The expiry class of a connection (OVS enum ct_timeout, CT_TM_*). Each maps to one timeout of
/// <see cref="ConntrackTimeouts"/>; the comments give the ct-timeout-policy attribute it reads.
/// </summary>
public enum TimeoutClass : byte
{
    /// <summary>tcp_syn_sent: a connection opened by one packet.</summary>
    TcpFirstPacket,

    /// <summary>tcp_syn_recv: either side not yet established.</summary>
    TcpOpening,

    /// <summary>tcp_established.</summary>
    TcpEstablished,

    /// <summary>tcp_fin_wait: one side is closing.</summary>
    TcpClosing,

    /// <summary>tcp_time_wait: both sides are closing.</summary>
    TcpFinWait,

    /// <summary>tcp_close: both sides closed, or reset.</summary>
    TcpClosed,

    /// <summary>udp_first: one packet seen.</summary>
    OtherFirst,

    /// <summary>udp_single: several packets, one direction.</summary>
    OtherMultiple,

    /// <summary>udp_multiple: both directions.</summary>
    OtherBidirectional,

    /// <summary>icmp_first.</summary>
    IcmpFirst,

    /// <summary>icmp_reply.</summary>
    IcmpReply,
}
