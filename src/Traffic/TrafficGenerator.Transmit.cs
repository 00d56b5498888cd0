namespace Traffic;

/// <summary>Writing the frames hosts send (the transmit half of <see cref="TrafficGenerator"/>).</summary>
public sealed partial class TrafficGenerator
{
    /// <summary>
    /// Writes into the scratch buffer the frame of <paramref name="kind"/> that one side of
    /// <paramref name="c"/> sends now, advancing that side's sequence state; returns its length.
    /// </summary>
    private int Write(ref TrafficConnection c, bool fromInitiator, SegmentKind kind)
    {
        var a = default(FrameAddresses);
        uint port = fromInitiator ? c.InitiatorPort : c.ResponderPort;
        a.SrcMac = port == ClientPort ? ClientMac : ServerMac;
        a.DstMac = port == ClientPort ? ServerMac : ClientMac;
        a.SrcIp = fromInitiator ? c.InitiatorIp : c.ResponderIp;
        a.DstIp = fromInitiator ? c.ResponderIp : c.InitiatorIp;
        a.SrcPort = fromInitiator ? c.InitiatorL4 : c.ResponderL4;
        a.DstPort = fromInitiator ? c.ResponderL4 : c.InitiatorL4;
        a.IpId = _ipIds[port - 1]++;
        var frame = _scratch.AsSpan();

        switch (c.Protocol)
        {
            case TrafficProtocol.Tcp:
                return WriteTcp(frame, ref c, fromInitiator, kind, in a);
            case TrafficProtocol.Udp:
                c.AwaitingResponse |= fromInitiator;
                return FrameWriter.WriteUdp(frame, in a, Payload(FrameWriter.UdpHeaders));
            default:
                if (fromInitiator)
                {
                    c.AwaitingResponse = true;
                    return FrameWriter.WriteIcmpEcho(frame, in a, FrameWriter.IcmpEchoRequest, ++c.EchoSent, Payload(FrameWriter.IcmpHeaders));
                }

                return FrameWriter.WriteIcmpEcho(frame, in a, FrameWriter.IcmpEchoReply, c.EchoDelivered, _payload.AsSpan(0, c.EchoPayload));
        }
    }

    private int WriteTcp(Span<byte> frame, ref TrafficConnection c, bool fromInitiator, SegmentKind kind, in FrameAddresses a)
    {
        ref uint seq = ref fromInitiator ? ref c.InitiatorSeq : ref c.ResponderSeq;

        uint ack = fromInitiator ? c.InitiatorRcvNext : c.ResponderRcvNext;
        uint start = seq;
        switch (kind)
        {
            case SegmentKind.Syn:
                seq++;
                return FrameWriter.WriteTcp(frame, in a, start, 0, FrameWriter.TcpSyn, Window, _mss, default);
            case SegmentKind.SynAck:
                seq++;
                return FrameWriter.WriteTcp(frame, in a, start, ack, FrameWriter.TcpSyn | FrameWriter.TcpAck, Window, _mss, default);
            case SegmentKind.Data:
                var payload = Payload(FrameWriter.TcpHeaders);
                seq += (uint)payload.Length;
                return FrameWriter.WriteTcp(frame, in a, start, ack, FrameWriter.TcpPsh | FrameWriter.TcpAck, Window, 0, payload);
            case SegmentKind.Fin:
                seq++;
                return FrameWriter.WriteTcp(frame, in a, start, ack, FrameWriter.TcpFin | FrameWriter.TcpAck, Window, 0, default);
            case SegmentKind.Rst:
                return FrameWriter.WriteTcp(frame, in a, start, ack, FrameWriter.TcpRst | FrameWriter.TcpAck, Window, 0, default);
            default:
                return FrameWriter.WriteTcp(frame, in a, start, ack, FrameWriter.TcpAck, Window, 0, default);
        }
    }

    /// <summary>The payload of a data frame whose headers take <paramref name="headers"/> bytes, its length drawn from the profile.</summary>
    private ReadOnlySpan<byte> Payload(int headers)
    {
        int size = _random.NextInRange(_profile.FrameSize.Min, _profile.FrameSize.Max);
        return _payload.AsSpan(0, size - headers);
    }
}
