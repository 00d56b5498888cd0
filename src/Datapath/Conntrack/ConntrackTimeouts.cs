namespace Datapath.Conntrack;

/// <summary>
/// Expiry timeouts in milliseconds, per <see cref="TimeoutClass"/>. The values come from the
/// configuration (HOCON `datapath.conntrack.timeouts`, whose embedded default holds Open vSwitch's
/// userspace defaults, lib/conntrack-tp.c). Immutable; "other" protocols use the UDP values, as in OVS.
/// </summary>
public sealed record ConntrackTimeouts
{
    public required long TcpSynSentMs { get; init; }
    public required long TcpSynRecvMs { get; init; }
    public required long TcpEstablishedMs { get; init; }
    public required long TcpFinWaitMs { get; init; }
    public required long TcpTimeWaitMs { get; init; }
    public required long TcpCloseMs { get; init; }
    public required long UdpFirstMs { get; init; }
    public required long UdpSingleMs { get; init; }
    public required long UdpMultipleMs { get; init; }
    public required long IcmpFirstMs { get; init; }
    public required long IcmpReplyMs { get; init; }

    /// <summary>The timeout of one class (OVS tm_to_ct_dpif_tp).</summary>
    public long For(TimeoutClass timeoutClass) => timeoutClass switch
    {
        TimeoutClass.TcpFirstPacket => TcpSynSentMs,
        TimeoutClass.TcpOpening => TcpSynRecvMs,
        TimeoutClass.TcpEstablished => TcpEstablishedMs,
        TimeoutClass.TcpClosing => TcpFinWaitMs,
        TimeoutClass.TcpFinWait => TcpTimeWaitMs,
        TimeoutClass.TcpClosed => TcpCloseMs,
        TimeoutClass.OtherFirst => UdpFirstMs,
        TimeoutClass.OtherMultiple => UdpSingleMs,
        TimeoutClass.OtherBidirectional => UdpMultipleMs,
        TimeoutClass.IcmpFirst => IcmpFirstMs,
        TimeoutClass.IcmpReply => IcmpReplyMs,
        _ => throw new ArgumentOutOfRangeException(nameof(timeoutClass)),
    };
}
