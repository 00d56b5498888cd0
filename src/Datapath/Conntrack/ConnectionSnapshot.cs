namespace Datapath.Conntrack;

/// <summary>
/// A copy of one connection for dumps (the analogue of struct ct_dpif_entry): original key, reply
/// tuple, mark, label, protocol state and expiry. A plain value.
/// </summary>
public readonly record struct ConnectionSnapshot(
    ConntrackKey Key,
    uint Mark,
    UInt128 Label,
    TcpState TcpOrigState,
    TcpState TcpReplyState,
    TimeoutClass Timeout,
    long ExpirationMs)
{
    private readonly ConntrackKey? _replyKey;

    public ushort Zone => Key.Zone;

    /// <summary>The reply tuple: the reverse of the original key, unless the connection is translated (NAT).</summary>
    public ConntrackKey ReplyKey
    {
        get => _replyKey ?? Key.Reverse();
        init => _replyKey = value;
    }

    /// <summary>True for a translated connection (its reply tuple is not the reverse of its original one).</summary>
    public bool IsTranslated => _replyKey is { } reply && reply != Key.Reverse();

    /// <summary>The name of its timeout policy, or null for the defaults.</summary>
    public string? TimeoutPolicy { get; init; }
}
