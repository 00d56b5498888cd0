namespace Datapath.Conntrack;

/// <summary>
/// Expiry timeouts in milliseconds, per <see cref="TimeoutClass"/>. The values come from the
/// configuration (HOCON `datapath.conntrack.timeouts`, whose embedded default holds Open vSwitch's
/// userspace defaults, lib/conntrack-tp.c). Immutable; "other" protocols use the UDP values, as in OVS.
/// </summary>
public sealed record ConntrackTimeouts
{
    /// <summary>
    /// The longest timeout a configuration may give (30 days): what bounds a moved connection's expiry
    /// against the clock it came with, since every node's configuration is read with this bound.
    /// </summary>
    public const long MaxTimeoutMs = 30L * 24 * 60 * 60 * 1000;

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

    /// <summary>The attribute names of a timeout policy, as ovs-vsctl add-zone-tp takes them (seconds).</summary>
    public static IReadOnlyList<string> AttributeNames { get; } =
    [
        "tcp_syn_sent", "tcp_syn_recv", "tcp_established", "tcp_fin_wait", "tcp_time_wait", "tcp_close",
        "udp_first", "udp_single", "udp_multiple", "icmp_first", "icmp_reply",
    ];

    /// <summary>These timeouts with one attribute (an add-zone-tp name) set, or null for an unknown attribute.</summary>
    public ConntrackTimeouts? With(string attribute, long milliseconds) => attribute switch
    {
        "tcp_syn_sent" => this with { TcpSynSentMs = milliseconds },
        "tcp_syn_recv" => this with { TcpSynRecvMs = milliseconds },
        "tcp_established" => this with { TcpEstablishedMs = milliseconds },
        "tcp_fin_wait" => this with { TcpFinWaitMs = milliseconds },
        "tcp_time_wait" => this with { TcpTimeWaitMs = milliseconds },
        "tcp_close" => this with { TcpCloseMs = milliseconds },
        "udp_first" => this with { UdpFirstMs = milliseconds },
        "udp_single" => this with { UdpSingleMs = milliseconds },
        "udp_multiple" => this with { UdpMultipleMs = milliseconds },
        "icmp_first" => this with { IcmpFirstMs = milliseconds },
        "icmp_reply" => this with { IcmpReplyMs = milliseconds },
        _ => null,
    };

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
