using Datapath.Packets;

namespace Traffic;

/// <summary>How hosts react to delivered frames (the receive half of <see cref="TrafficGenerator"/>).</summary>
public sealed partial class TrafficGenerator
{
    /// <summary>As <see cref="OnTransmitted(uint, ReadOnlySpan{byte}, long)"/> for a packet's frame; the caller keeps the packet.</summary>
    public void OnTransmitted(uint port, Packet packet, long nowNs)
    {
        ArgumentNullException.ThrowIfNull(packet);
        OnTransmitted(port, packet.Data, nowNs);
    }

    /// <summary>
    /// Reports a frame the datapath transmitted on <paramref name="port"/>, i.e. delivered to the
    /// host behind it. The host reacts as a real stack would: a SYN gets a SYN|ACK, a request its
    /// response, a FIN its FIN|ACK..., queued for its next <see cref="Fill"/>. Frames of no live
    /// connection, out of sequence, or sent back to the port they came from are counted in
    /// <see cref="TrafficStats.Ignored"/> and change nothing.
    /// </summary>
    public void OnTransmitted(uint port, ReadOnlySpan<byte> frame, long nowNs)
    {
        QueueOf(port);
        Stats.RecordDelivered(port);
        if (!DeliveredFrame.TryParse(frame, out var f) || !TryFind(in f, out int slot, out bool fromInitiator))
        {
            Stats.RecordIgnored();
            return;
        }

        ref var c = ref _connections[slot];
        uint senderPort = fromInitiator ? c.InitiatorPort : c.ResponderPort;
        bool handled = senderPort != port && (c.Protocol == TrafficProtocol.Tcp
            ? OnTcp(slot, ref c, !fromInitiator, in f, nowNs)
            : OnExchange(slot, ref c, !fromInitiator, in f, nowNs));
        if (handled)
        {
            _activity.Touch(slot, nowNs);
        }
        else
        {
            Stats.RecordIgnored();
        }
    }

    /// <summary>Finds the live connection of a frame sent by either of its sides.</summary>
    private bool TryFind(in DeliveredFrame f, out int slot, out bool fromInitiator)
    {
        bool isRequest = f.Protocol != TrafficProtocol.Icmp || f.IcmpType == FrameWriter.IcmpEchoRequest;
        slot = -1;
        fromInitiator = true;
        if (isRequest
            && _byInitiator.TryGetValue(InitiatorKey(f.Protocol, f.SrcIp, f.SrcPort), out slot)
            && Matches(in _connections[slot], in f, f.SrcIp, f.SrcPort, f.DstIp, f.DstPort))
        {
            return true;
        }

        bool isReply = f.Protocol != TrafficProtocol.Icmp || f.IcmpType == FrameWriter.IcmpEchoReply;
        fromInitiator = false;
        return isReply
            && _byInitiator.TryGetValue(InitiatorKey(f.Protocol, f.DstIp, f.DstPort), out slot)
            && Matches(in _connections[slot], in f, f.DstIp, f.DstPort, f.SrcIp, f.SrcPort);
    }

    private static bool Matches(in TrafficConnection c, in DeliveredFrame f, uint initiatorIp, ushort initiatorL4, uint responderIp, ushort responderL4) =>
        c.Protocol == f.Protocol && c.InitiatorIp == initiatorIp && c.InitiatorL4 == initiatorL4
        && c.ResponderIp == responderIp && c.ResponderL4 == responderL4;

    /// <summary>A TCP segment reached one side: follow the handshake, the exchanges and the teardown.</summary>
    private bool OnTcp(int slot, ref TrafficConnection c, bool atInitiator, in DeliveredFrame f, long nowNs)
    {
        ref var side = ref atInitiator ? ref c.InitiatorTcp : ref c.ResponderTcp;
        ref uint rcvNext = ref atInitiator ? ref c.InitiatorRcvNext : ref c.ResponderRcvNext;
        uint port = atInitiator ? c.InitiatorPort : c.ResponderPort;
        byte flags = f.TcpFlags;

        if ((flags & FrameWriter.TcpRst) != 0)
        {
            // As a stack does (RFC 5961), only a RST at exactly the expected sequence ends the connection.
            if ((side & TcpSide.ReceivedSyn) == 0 || f.TcpSeq != rcvNext)
            {
                return false;
            }

            Stats.RecordCompleted(TrafficProtocol.Tcp, reset: true);
            Replace(slot, nowNs);
            return true;
        }

        if ((flags & FrameWriter.TcpSyn) != 0)
        {
            bool synAck = (flags & FrameWriter.TcpAck) != 0;
            if ((side & TcpSide.ReceivedSyn) != 0 || synAck != atInitiator)
            {
                return false;
            }

            side |= TcpSide.ReceivedSyn;
            rcvNext = f.TcpSeq + 1;
            if (atInitiator)
            {
                Enqueue(slot, port, SegmentKind.Ack);
                Enqueue(slot, port, SegmentKind.Data);
            }
            else
            {
                Enqueue(slot, port, SegmentKind.SynAck);
            }

            return true;
        }

        if ((side & TcpSide.ReceivedSyn) == 0 || (flags & FrameWriter.TcpAck) == 0 || f.TcpSeq != rcvNext)
        {
            return false;
        }

        if (f.PayloadLength > 0)
        {
            rcvNext += (uint)f.PayloadLength;
            OnTcpData(slot, ref c, atInitiator, port);
        }

        if ((flags & FrameWriter.TcpFin) != 0)
        {
            rcvNext++;
            side |= TcpSide.ReceivedFin;
            if ((side & TcpSide.SentFin) != 0)
            {
                Enqueue(slot, port, SegmentKind.Ack);
            }
            else
            {
                side |= TcpSide.SentFin;
                Enqueue(slot, port, SegmentKind.Fin);
            }
        }
        else if (f.PayloadLength == 0 && (side & (TcpSide.SentFin | TcpSide.ReceivedFin)) == (TcpSide.SentFin | TcpSide.ReceivedFin))
        {
            // The last ACK of the teardown acknowledges our FIN: both directions are closed.
            Stats.RecordCompleted(TrafficProtocol.Tcp, reset: false);
            Replace(slot, nowNs);
        }

        return true;
    }

    /// <summary>A request reached the responder (answer it) or a response reached the initiator (next request, or close).</summary>
    private void OnTcpData(int slot, ref TrafficConnection c, bool atInitiator, uint port)
    {
        int requests = _profile.RequestsPerConnection;
        if (!atInitiator)
        {
            Enqueue(slot, port, SegmentKind.Data);
            if (++c.RequestsDelivered >= requests && c.ResponderCloses)
            {
                Close(slot, ref c, ref c.ResponderTcp, port);
            }
        }
        else if (++c.ResponsesDelivered < requests)
        {
            Enqueue(slot, port, SegmentKind.Data);
        }
        else if (!c.ResponderCloses)
        {
            Close(slot, ref c, ref c.InitiatorTcp, port);
        }
    }

    private void Close(int slot, ref TrafficConnection c, ref TcpSide side, uint port)
    {
        if (c.Reset)
        {
            Enqueue(slot, port, SegmentKind.Rst);
            return;
        }

        side |= TcpSide.SentFin;
        Enqueue(slot, port, SegmentKind.Fin);
    }

    /// <summary>A UDP or ICMP echo request reached the responder, or its response reached the initiator.</summary>
    private bool OnExchange(int slot, ref TrafficConnection c, bool atInitiator, in DeliveredFrame f, long nowNs)
    {
        if (!atInitiator)
        {
            if (c.Protocol == TrafficProtocol.Icmp)
            {
                c.EchoDelivered = f.IcmpSequence;
                c.EchoPayload = (ushort)Math.Min(f.PayloadLength, _profile.Mtu - FrameWriter.Ipv4Length - FrameWriter.IcmpLength);
            }

            c.RequestsDelivered++;
            Enqueue(slot, c.ResponderPort, SegmentKind.Data);
            return true;
        }

        if (!c.AwaitingResponse || (c.Protocol == TrafficProtocol.Icmp && f.IcmpSequence != c.EchoSent))
        {
            return false;
        }

        c.AwaitingResponse = false;
        if (++c.ResponsesDelivered < _profile.RequestsPerConnection)
        {
            Enqueue(slot, c.InitiatorPort, SegmentKind.Data);
        }
        else
        {
            Stats.RecordCompleted(c.Protocol, reset: false);
            Replace(slot, nowNs);
        }

        return true;
    }
}
