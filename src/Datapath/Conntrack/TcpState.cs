namespace Datapath.Conntrack;

/// <summary>One TCP peer's state, in Open vSwitch's order (enum ct_dpif_tcp_state); comparisons rely on it.</summary>
public enum TcpState : byte
{
    Closed,
    Listen,
    SynSent,
    SynRecv,
    Established,
    CloseWait,
    FinWait1,
    Closing,
    LastAck,
    FinWait2,
    TimeWait,
}

/// <summary>One side of a TCP connection as pf tracks it (OVS struct tcp_peer).</summary>
public struct TcpPeer
{
    /// <summary>Highest sequence number sent (one past it).</summary>
    public uint SeqLo;

    /// <summary>Highest sequence number the other side has allowed (its ack plus window).</summary>
    public uint SeqHi;

    /// <summary>Largest window advertised, before scaling.</summary>
    public ushort MaxWin;

    /// <summary>Window scale: 0x80 | shift when negotiated, 0x40 when unknown (picked up mid-stream).</summary>
    public byte WScale;

    public TcpState State;
}
