using TestSupport.Frames;

namespace Datapath.Tests.Pipeline;

/// <summary>
/// Frames between h1 (10.0.0.1, port 1) and h2 (10.0.0.2, port 2) with real headers and
/// checksums (the tests' frame builder), each with the port it arrives on.
/// </summary>
internal static class BypassFrames
{
    public const string H1 = "10.0.0.1";
    public const string H2 = "10.0.0.2";

    public static (byte[] Frame, uint Port) Udp(uint fromPort, ushort h1Port, ushort h2Port, int payload = 18, byte tos = 0)
    {
        var frame = fromPort == 1
            ? From(1, H1, H2).Tos(tos).Udp(h1Port, h2Port).Payload(payload)
            : From(2, H2, H1).Tos(tos).Udp(h2Port, h1Port).Payload(payload);
        return (frame.Build(), fromPort);
    }

    /// <summary>IPv4 from the host behind <paramref name="port"/>, its MAC as the source.</summary>
    internal static FrameBuilder From(uint port, string source, string destination) =>
        (port == 1 ? Frame.Ethernet(Frame.Mac1, Frame.Mac2) : Frame.Ethernet(Frame.Mac2, Frame.Mac1)).Ipv4(source, destination);
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

    public (byte[] Frame, uint Port) Syn() => Segment(fromClient: true, TcpFlags.Syn, 0);

    public (byte[] Frame, uint Port) SynAck() => Segment(fromClient: false, TcpFlags.Syn | TcpFlags.Ack, 0);

    public (byte[] Frame, uint Port) Ack(bool fromClient = true) => Segment(fromClient, TcpFlags.Ack, 0);

    public (byte[] Frame, uint Port) Data(bool fromClient, int payload = 40) => Segment(fromClient, TcpFlags.Psh | TcpFlags.Ack, payload);

    public (byte[] Frame, uint Port) Fin(bool fromClient) => Segment(fromClient, TcpFlags.Fin | TcpFlags.Ack, 0);

    public (byte[] Frame, uint Port) Rst(bool fromClient) => Segment(fromClient, TcpFlags.Rst | TcpFlags.Ack, 0);

    /// <summary>A data segment far outside the window (its seq is a million bytes ahead); the session's numbers do not move.</summary>
    public (byte[] Frame, uint Port) OutOfWindow(bool fromClient, int payload = 40) =>
        Segment(fromClient, TcpFlags.Psh | TcpFlags.Ack, payload, seqOffset: 1_000_000);

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
        uint ack = (flags & TcpFlags.Ack) != 0 ? (fromClient ? _serverNext : _clientNext) : 0;
        var frame = fromH1
            ? BypassFrames.From(1, BypassFrames.H1, BypassFrames.H2).Tcp(h1TcpPort, h2TcpPort, flags, seq, ack).Payload(payload).Build()
            : BypassFrames.From(2, BypassFrames.H2, BypassFrames.H1).Tcp(h2TcpPort, h1TcpPort, flags, seq, ack).Payload(payload).Build();
        if (seqOffset == 0)
        {
            uint length = (uint)payload + ((flags & TcpFlags.Syn) != 0 ? 1u : 0u) + ((flags & TcpFlags.Fin) != 0 ? 1u : 0u);
            if (fromClient)
            {
                _clientNext += length;
            }
            else
            {
                _serverNext += length;
            }
        }

        return (frame, port);
    }
}
