using Datapath.Tests.Conntrack;

namespace Datapath.Tests.Pipeline;

/// <summary>
/// Frames between h1 (10.0.0.1, port 1) and h2 (10.0.0.2, port 2) with real headers and
/// checksums (<see cref="CtFrames"/>), each with the port it arrives on.
/// </summary>
internal static class BypassFrames
{
    public static (byte[] Frame, uint Port) Udp(uint fromPort, ushort h1Port, ushort h2Port, int payload = 18, byte tos = 0)
    {
        var frame = fromPort == 1
            ? CtFrames.Udp(CtFrames.H1, CtFrames.H2, h1Port, h2Port, payload)
            : CtFrames.Udp(CtFrames.H2, CtFrames.H1, h2Port, h1Port, payload);
        if (tos != 0)
        {
            frame[15] = tos;
            CtFrames.FixIpv4HeaderChecksum(frame);
        }

        return (SwapMacsFromPort2(frame, fromPort), fromPort);
    }

    /// <summary>Frames from h2 carry h2's MAC as source (CtFrames writes h1's).</summary>
    internal static byte[] SwapMacsFromPort2(byte[] frame, uint fromPort)
    {
        if (fromPort == 2)
        {
            var dst = frame.AsSpan(0, 6).ToArray();
            frame.AsSpan(6, 6).CopyTo(frame);
            dst.CopyTo(frame, 6);
        }

        return frame;
    }
}

/// <summary>
/// One TCP connection between h1 and h2 that keeps both sides' sequence numbers, so each segment it
/// writes carries the seq and ack a real peer would send (unless told to be out of window).
/// </summary>
internal sealed class TcpSession(uint clientPort, ushort clientTcpPort, ushort serverTcpPort, uint clientIsn = 1000, uint serverIsn = 500_000)
{
    private uint _clientNext = clientIsn;
    private uint _serverNext = serverIsn;

    /// <summary>The port the client (the side that sends the SYN) is on.</summary>
    public uint ClientPort { get; } = clientPort;

    public uint ServerPort => ClientPort == 1 ? 2u : 1u;

    public (byte[] Frame, uint Port) Syn() => Segment(fromClient: true, CtFrames.Syn, 0);

    public (byte[] Frame, uint Port) SynAck() => Segment(fromClient: false, CtFrames.Syn | CtFrames.Ack, 0);

    public (byte[] Frame, uint Port) Ack(bool fromClient = true) => Segment(fromClient, CtFrames.Ack, 0);

    public (byte[] Frame, uint Port) Data(bool fromClient, int payload = 40) => Segment(fromClient, CtFrames.Psh | CtFrames.Ack, payload);

    public (byte[] Frame, uint Port) Fin(bool fromClient) => Segment(fromClient, CtFrames.Fin | CtFrames.Ack, 0);

    public (byte[] Frame, uint Port) Rst(bool fromClient) => Segment(fromClient, CtFrames.Rst | CtFrames.Ack, 0);

    /// <summary>A data segment far outside the window (its seq is a million bytes ahead); the session's numbers do not move.</summary>
    public (byte[] Frame, uint Port) OutOfWindow(bool fromClient, int payload = 40) =>
        Segment(fromClient, CtFrames.Psh | CtFrames.Ack, payload, seqOffset: 1_000_000);

    /// <summary>The three segments of the handshake, in order.</summary>
    public IEnumerable<(byte[] Frame, uint Port)> Handshake()
    {
        yield return Syn();
        yield return SynAck();
        yield return Ack();
    }

    public (byte[] Frame, uint Port) Segment(bool fromClient, ushort flags, int payload, uint seqOffset = 0)
    {
        uint port = fromClient ? ClientPort : ServerPort;
        bool fromH1 = port == 1;
        ushort h1TcpPort = fromH1 == fromClient ? clientTcpPort : serverTcpPort;
        ushort h2TcpPort = fromH1 == fromClient ? serverTcpPort : clientTcpPort;
        uint seq = (fromClient ? _clientNext : _serverNext) + seqOffset;
        uint ack = (flags & CtFrames.Ack) != 0 ? (fromClient ? _serverNext : _clientNext) : 0;
        var frame = fromH1
            ? CtFrames.Tcp(CtFrames.H1, CtFrames.H2, h1TcpPort, h2TcpPort, seq, ack, flags, payload: payload)
            : CtFrames.Tcp(CtFrames.H2, CtFrames.H1, h2TcpPort, h1TcpPort, seq, ack, flags, payload: payload);
        if (seqOffset == 0)
        {
            uint length = (uint)payload + ((flags & CtFrames.Syn) != 0 ? 1u : 0u) + ((flags & CtFrames.Fin) != 0 ? 1u : 0u);
            if (fromClient)
            {
                _clientNext += length;
            }
            else
            {
                _serverNext += length;
            }
        }

        return (BypassFrames.SwapMacsFromPort2(frame, port), port);
    }
}
