using System.Buffers.Binary;
using Datapath.Packets;

namespace Traffic;

/// <summary>
/// The traffic of the bench: <see cref="Connections"/> bidirectional UDP or TCP connections between
/// a client side behind port 1 and a server behind port 2, all minimum-size (64-byte) frames.
/// First a handshake (<see cref="HandshakeSteps"/> steps, each one frame per connection from one
/// side: UDP request then reply; TCP SYN, SYN|ACK, ACK) so that conntrack holds every connection
/// as established; then data frames in both directions, as many as the caller asks for.
///
/// Connection i is client 10.0.0.1+i, port 10000, to server 172.16.0.1, port 5000. Data frames are
/// a per-direction template with the client address (and TCP's sequence and acknowledgement
/// numbers) written in and the checksums updated incrementally, so a frame costs a 64-byte copy
/// and a few additions. Per connection only TCP keeps state: the next sequence number of each
/// side (8 bytes); every data segment acknowledges all the peer has sent, which pf-style window
/// tracking accepts as long as less than a window (64 KiB) is in flight per direction.
/// One owner, not thread-safe; allocation-free per frame.
///
/// Behind a source NAT (<see cref="SnatAddress"/>): client i uses port 10000+i, so the gateway's
/// <c>nat(src=ADDRESS)</c> keeps every port (no two reply tuples collide, whatever order the
/// connections open in), and the server answers the translated side, ADDRESS:10000+i, as a real
/// server behind the gateway would.
/// </summary>
public sealed class EstablishedStreams
{
    public const uint ClientPort = TrafficGenerator.ClientPort;
    public const uint ServerPort = TrafficGenerator.ServerPort;
    public const uint FirstClientIp = 0x0A_00_00_01;
    public const uint ServerIp = 0xAC_10_00_01;
    public const ushort ClientL4Port = 10000;
    public const ushort ServerL4Port = 5000;

    /// <summary>Client addresses run from 10.0.0.1 upwards inside 10.0.0.0/8.</summary>
    public const int MaxConnections = (1 << 24) - 2;

    /// <summary>Behind a source NAT each client has a port of its own, 10000 upwards.</summary>
    public const int MaxSnatConnections = ushort.MaxValue - ClientL4Port + 1;

    private const int FrameLength = FrameSizeRange.Minimum;
    private const int IpChecksumOffset = FrameWriter.EthLength + 10;
    private const int IpSourceOffset = FrameWriter.EthLength + 12;
    private const int IpDestinationOffset = FrameWriter.EthLength + 16;
    private const int L4Offset = FrameWriter.EthLength + FrameWriter.Ipv4Length;
    private const int TcpSeqOffset = L4Offset + 4;
    private const int TcpAckOffset = L4Offset + 8;
    private const int TcpChecksumOffset = L4Offset + 16;
    private const int UdpChecksumOffset = L4Offset + 6;
    private const ushort TcpWindow = 65535;
    private const ushort TcpMss = 1460;

    private readonly byte[][] _templates = new byte[2][];
    private readonly byte[] _payload = new byte[FrameLength];
    private readonly uint[] _clientNext;
    private readonly uint[] _serverNext;

    /// <param name="snatAddress">The address a source NAT between client and server translates every client to (null: none).</param>
    public EstablishedStreams(TrafficProtocol protocol, int connections, uint? snatAddress = null)
    {
        if (protocol is not (TrafficProtocol.Udp or TrafficProtocol.Tcp))
        {
            throw new ArgumentException("Established streams are UDP or TCP.", nameof(protocol));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(connections, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(connections, snatAddress is null ? MaxConnections : MaxSnatConnections);
        SnatAddress = snatAddress;
        Protocol = protocol;
        Connections = connections;
        bool tcp = protocol == TrafficProtocol.Tcp;
        _clientNext = tcp ? new uint[connections] : [];
        _serverNext = tcp ? new uint[connections] : [];
        for (int i = 0; i < _clientNext.Length; i++)
        {
            // Spread initial sequence numbers, as stacks do, so that wraparound is exercised too.
            _clientNext[i] = (uint)i * 2654435761u;
            _serverNext[i] = ~_clientNext[i];
        }

        // Templates are connection 0's data frames with sequence and acknowledgement numbers 0.
        for (int side = 0; side < 2; side++)
        {
            var frame = new byte[FrameLength];
            var a = Addresses(0, fromClient: side == 0, snatAddress);
            int length = tcp
                ? FrameWriter.WriteTcp(frame, in a, 0, 0, FrameWriter.TcpPsh | FrameWriter.TcpAck, TcpWindow, 0, _payload.AsSpan(0, FrameLength - FrameWriter.TcpHeaders))
                : FrameWriter.WriteUdp(frame, in a, _payload.AsSpan(0, FrameLength - FrameWriter.UdpHeaders));
            _templates[side] = frame[..length];
        }
    }

    public TrafficProtocol Protocol { get; }

    /// <summary>The address clients are translated to on their way to the server, or null.</summary>
    public uint? SnatAddress { get; }

    public int Connections { get; }

    /// <summary>
    /// How many data frames one side of a connection may send beyond the other side's (TCP): each
    /// segment acknowledges what its sender has seen written, so a side that ran ahead of its peer by
    /// more than a window's worth of data would be out of window for conntrack (as a real TCP sender
    /// never is). Half a window keeps well clear of it; UDP has no limit.
    /// </summary>
    public int MaxDataFramesAhead => Protocol == TrafficProtocol.Tcp ? TcpWindow / 2 / (FrameLength - FrameWriter.TcpHeaders) : int.MaxValue;

    /// <summary>Frames per connection that establish it: UDP request and reply; TCP SYN, SYN|ACK and ACK.</summary>
    public int HandshakeSteps => Protocol == TrafficProtocol.Tcp ? 3 : 2;

    /// <summary>The port whose host sends the frames of handshake step <paramref name="step"/> (the client first, then in turn).</summary>
    public static uint HandshakePort(int step) => step % 2 == 0 ? ClientPort : ServerPort;

    /// <summary>The port a frame from <paramref name="port"/> is forwarded to by the firewall.</summary>
    public static uint PeerOf(uint port) => port == ClientPort ? ServerPort : ClientPort;

    /// <summary>Writes connection <paramref name="connection"/>'s frame of handshake step <paramref name="step"/> into <paramref name="packet"/> (in_port set).</summary>
    public void WriteHandshake(int step, int connection, Packet packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(step, HandshakeSteps);
        uint port = HandshakePort(step);
        var a = Addresses(connection, fromClient: port == ClientPort, SnatAddress);
        Span<byte> frame = stackalloc byte[FrameLength];
        int length;
        if (Protocol == TrafficProtocol.Udp)
        {
            length = FrameWriter.WriteUdp(frame, in a, _payload.AsSpan(0, FrameLength - FrameWriter.UdpHeaders));
        }
        else
        {
            ref uint client = ref _clientNext[connection];
            ref uint server = ref _serverNext[connection];
            (uint seq, uint ack, byte flags, ushort mss) = step switch
            {
                0 => (client++, 0u, FrameWriter.TcpSyn, TcpMss),
                1 => (server++, client, (byte)(FrameWriter.TcpSyn | FrameWriter.TcpAck), TcpMss),
                _ => (client, server, FrameWriter.TcpAck, (ushort)0),
            };
            length = FrameWriter.WriteTcp(frame, in a, seq, ack, flags, TcpWindow, mss, default);
        }

        packet.SetFrame(frame[..length], port);
    }

    /// <summary>Writes the next data frame of <paramref name="connection"/> from the host behind <paramref name="port"/> into <paramref name="packet"/>; TCP advances that side's sequence.</summary>
    public void WriteData(uint port, int connection, Packet packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        bool fromClient = port == ClientPort;
        packet.SetFrame(_templates[fromClient ? 0 : 1], port);
        Fill(packet.Data, fromClient, connection, advance: true);
    }

    /// <summary>Writes the data frame <see cref="WriteData"/> would write into <paramref name="frame"/> (64 bytes) without advancing anything: for classifying a connection (its RSS queue).</summary>
    public int PeekData(uint port, int connection, Span<byte> frame)
    {
        bool fromClient = port == ClientPort;
        var template = _templates[fromClient ? 0 : 1];
        template.CopyTo(frame);
        Fill(frame, fromClient, connection, advance: false);
        return template.Length;
    }

    private void Fill(Span<byte> frame, bool fromClient, int connection, bool advance)
    {
        ulong addressDelta = 0;
        if (fromClient || SnatAddress is null)
        {
            uint ip = FirstClientIp + (uint)connection;
            addressDelta = Checksum.Delta32(FirstClientIp, ip);
            BinaryPrimitives.WriteUInt32BigEndian(frame[(fromClient ? IpSourceOffset : IpDestinationOffset)..], ip);
            var ipChecksum = frame[IpChecksumOffset..];
            BinaryPrimitives.WriteUInt16BigEndian(ipChecksum, Checksum.Adjust(BinaryPrimitives.ReadUInt16BigEndian(ipChecksum), addressDelta));
        }

        if (SnatAddress is not null)
        {
            // The client's own port (its source, or the server's destination): the L4 checksum only.
            ushort port = (ushort)(ClientL4Port + connection);
            BinaryPrimitives.WriteUInt16BigEndian(frame[(L4Offset + (fromClient ? 0 : 2))..], port);
            addressDelta += Checksum.Delta32(ClientL4Port, port);
        }
        if (Protocol == TrafficProtocol.Udp)
        {
            var udpChecksum = frame[UdpChecksumOffset..];
            ushort sum = Checksum.Adjust(BinaryPrimitives.ReadUInt16BigEndian(udpChecksum), addressDelta);
            BinaryPrimitives.WriteUInt16BigEndian(udpChecksum, sum == 0 ? (ushort)0xFFFF : sum);
            return;
        }

        ref uint own = ref fromClient ? ref _clientNext[connection] : ref _serverNext[connection];
        uint peer = fromClient ? _serverNext[connection] : _clientNext[connection];
        uint seq = own;
        if (advance)
        {
            own += (uint)(FrameLength - FrameWriter.TcpHeaders);
        }

        BinaryPrimitives.WriteUInt32BigEndian(frame[TcpSeqOffset..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(frame[TcpAckOffset..], peer);
        var tcpChecksum = frame[TcpChecksumOffset..];
        ulong delta = addressDelta + Checksum.Delta32(0, seq) + Checksum.Delta32(0, peer);
        BinaryPrimitives.WriteUInt16BigEndian(tcpChecksum, Checksum.Adjust(BinaryPrimitives.ReadUInt16BigEndian(tcpChecksum), delta));
    }

    private static FrameAddresses Addresses(int connection, bool fromClient, uint? snatAddress)
    {
        uint client = FirstClientIp + (uint)connection;
        ushort clientPort = snatAddress is null ? ClientL4Port : (ushort)(ClientL4Port + connection);

        // The server sees, and answers, the client as the NAT translated it.
        uint seenClient = snatAddress ?? client;
        return new FrameAddresses
        {
            SrcMac = fromClient ? TrafficGenerator.ClientMac : TrafficGenerator.ServerMac,
            DstMac = fromClient ? TrafficGenerator.ServerMac : TrafficGenerator.ClientMac,
            SrcIp = fromClient ? client : ServerIp,
            DstIp = fromClient ? ServerIp : seenClient,
            SrcPort = fromClient ? clientPort : ServerL4Port,
            DstPort = fromClient ? ServerL4Port : clientPort,
        };
    }
}
