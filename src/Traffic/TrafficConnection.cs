namespace Traffic;

/// <summary>The segment or message a host queues for transmission (its meaning follows the connection's protocol).</summary>
internal enum SegmentKind : byte
{
    /// <summary>TCP SYN (with the MSS option).</summary>
    Syn,

    /// <summary>TCP SYN|ACK (with the MSS option).</summary>
    SynAck,

    /// <summary>TCP bare ACK: the third segment of the handshake, or the last of a FIN teardown.</summary>
    Ack,

    /// <summary>A request (from the initiator) or a response (from the responder): TCP PSH|ACK data, a UDP datagram, an ICMP echo.</summary>
    Data,

    /// <summary>TCP FIN|ACK, closing this side's direction.</summary>
    Fin,

    /// <summary>TCP RST|ACK.</summary>
    Rst,
}

/// <summary>What one side of a TCP connection has seen and done.</summary>
[Flags]
internal enum TcpSide : byte
{
    None = 0,
    ReceivedSyn = 1,
    SentFin = 2,
    ReceivedFin = 4,
}

/// <summary>
/// Both ends of one simulated connection in a slot of the generator. The initiator opens it and
/// sends requests; the responder answers. Exchanges are in lockstep: each side sends only after
/// the frame it reacts to was delivered, so at most one side has frames queued or in flight.
/// </summary>
internal struct TrafficConnection
{
    /// <summary>Incremented each time the slot gets a new connection; queued frames of an older one are discarded.</summary>
    public int Generation;

    public TrafficProtocol Protocol;

    /// <summary>The datapath port of the initiating host (1: client side, 2: server side).</summary>
    public uint InitiatorPort;

    /// <summary>The responder ends the connection after its last response (otherwise the initiator after receiving it).</summary>
    public bool ResponderCloses;

    /// <summary>The closing side sends RST|ACK instead of FIN|ACK.</summary>
    public bool Reset;

    public uint InitiatorIp;
    public uint ResponderIp;

    /// <summary>The initiator's ephemeral port (ICMP: the echo identifier).</summary>
    public ushort InitiatorL4;

    /// <summary>The responder's service port (ICMP: the echo identifier).</summary>
    public ushort ResponderL4;

    /// <summary>TCP: the next sequence number each side sends.</summary>
    public uint InitiatorSeq;
    public uint ResponderSeq;

    /// <summary>TCP: the next sequence number each side expects (what it acknowledges).</summary>
    public uint InitiatorRcvNext;
    public uint ResponderRcvNext;

    public TcpSide InitiatorTcp;
    public TcpSide ResponderTcp;

    /// <summary>Requests delivered to the responder and responses delivered to the initiator.</summary>
    public int RequestsDelivered;
    public int ResponsesDelivered;

    /// <summary>ICMP: the sequence number of the last echo request sent, and of the last one delivered.</summary>
    public ushort EchoSent;
    public ushort EchoDelivered;

    /// <summary>ICMP: payload length of the last delivered request, which the reply mirrors.</summary>
    public ushort EchoPayload;

    /// <summary>UDP and ICMP: a request was sent and its response has not been delivered yet.</summary>
    public bool AwaitingResponse;

    /// <summary>Frames of this connection sitting in a host's transmit queue.</summary>
    public int Queued;

    public readonly uint ResponderPort => 3 - InitiatorPort;
}
