namespace Datapath.Conntrack;

/// <summary>
/// A copy of one connection for dumps (the analogue of struct ct_dpif_entry): original key (its
/// reverse is the reply tuple), mark, label, protocol state and expiry. A plain value.
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
    public ushort Zone => Key.Zone;

    public ConntrackKey ReplyKey => Key.Reverse();
}
