using System.Buffers.Binary;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Traffic;

/// <summary>
/// Synthetic bidirectional UDP over IPv4 between two hosts' ports: connection i runs from
/// 10.1.x.y:(1024 + i mod 60000) on port 1 to 10.2.0.1:5001 on port 2, and back.
/// Frames are written from a template, so filling a packet allocates nothing.
/// </summary>
public sealed class UdpTrafficGenerator
{
    public const uint ClientPort = 1;
    public const uint ServerPort = 2;
    public const ulong ClientMac = 0x02_00_00_00_00_01;
    public const ulong ServerMac = 0x02_00_00_00_00_02;
    public const uint ServerIp = 0x0A02_0001;
    public const ushort ServerUdpPort = 5001;

    private const int EthLength = 14;
    private const int Ipv4Length = 20;
    private const int UdpLength = 8;
    private const int HeadersLength = EthLength + Ipv4Length + UdpLength;

    private readonly byte[] _template;

    public UdpTrafficGenerator(int connections, int frameSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(connections);
        ArgumentOutOfRangeException.ThrowIfLessThan(frameSize, HeadersLength);
        Connections = connections;
        _template = new byte[frameSize];
        var ip = _template.AsSpan(EthLength);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(frameSize - EthLength));
        ip[8] = 64;
        ip[9] = IpProtocols.Udp;
        BinaryPrimitives.WriteUInt16BigEndian(_template.AsSpan(12), EtherTypes.Ipv4);
        BinaryPrimitives.WriteUInt16BigEndian(_template.AsSpan(EthLength + Ipv4Length + 4), (ushort)(frameSize - EthLength - Ipv4Length));
    }

    public int Connections { get; }

    public int FrameSize => _template.Length;

    /// <summary>The client address of connection <paramref name="connection"/>.</summary>
    public static uint ClientIp(int connection) => 0x0A01_0000u + (uint)connection + 1;

    public static ushort ClientUdpPort(int connection) => (ushort)(1024 + (connection % 60000));

    /// <summary>Writes one frame of <paramref name="connection"/>, from the client (port 1) or the reply (port 2).</summary>
    public void Fill(Packet packet, int connection, bool reply)
    {
        packet.SetFrame(_template, reply ? ServerPort : ClientPort);
        var frame = packet.Data;
        uint client = ClientIp(connection);
        ushort clientPort = ClientUdpPort(connection);
        FlowKey.WriteMac(frame, reply ? ClientMac : ServerMac);
        FlowKey.WriteMac(frame[6..], reply ? ServerMac : ClientMac);
        var ip = frame[EthLength..];
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], reply ? ServerIp : client);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], reply ? client : ServerIp);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Ipv4Header(ip[..Ipv4Length]));
        var udp = ip[Ipv4Length..];
        BinaryPrimitives.WriteUInt16BigEndian(udp, reply ? ServerUdpPort : clientPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], reply ? clientPort : ServerUdpPort);
    }
}
