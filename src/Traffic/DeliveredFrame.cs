using System.Buffers.Binary;
using Datapath.Flow;

namespace Traffic;

/// <summary>
/// The fields a receiving host reads from a frame the datapath delivered: IPv4 addresses and the
/// TCP, UDP or ICMP echo header (for echoes the identifier stands in both ports). VLAN tags are
/// skipped; anything else (other ethertypes, fragments, truncation) is not parsed.
/// </summary>
internal struct DeliveredFrame
{
    public TrafficProtocol Protocol;
    public uint SrcIp;
    public uint DstIp;
    public ushort SrcPort;
    public ushort DstPort;
    public int PayloadLength;
    public uint TcpSeq;
    public byte TcpFlags;
    public byte IcmpType;
    public ushort IcmpSequence;

    public static bool TryParse(ReadOnlySpan<byte> frame, out DeliveredFrame f)
    {
        f = default;
        int offset = 12;
        if (frame.Length < offset + 2)
        {
            return false;
        }

        ushort ethType = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
        while ((ethType == EtherTypes.Vlan8021Q || ethType == EtherTypes.Vlan8021AD) && frame.Length >= offset + 6)
        {
            offset += 4;
            ethType = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
        }

        offset += 2;
        if (ethType != EtherTypes.Ipv4 || frame.Length < offset + FrameWriter.Ipv4Length)
        {
            return false;
        }

        var ip = frame[offset..];
        int headerLength = (ip[0] & 0x0F) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        bool fragment = (BinaryPrimitives.ReadUInt16BigEndian(ip[6..]) & 0x3FFF) != 0;
        if (ip[0] >> 4 != 4 || headerLength < FrameWriter.Ipv4Length || totalLength < headerLength || totalLength > ip.Length || fragment)
        {
            return false;
        }

        f.SrcIp = BinaryPrimitives.ReadUInt32BigEndian(ip[12..]);
        f.DstIp = BinaryPrimitives.ReadUInt32BigEndian(ip[16..]);
        var l4 = ip[headerLength..totalLength];
        switch (ip[9])
        {
            case IpProtocols.Tcp:
                return ParseTcp(l4, ref f);
            case IpProtocols.Udp:
                if (l4.Length < FrameWriter.UdpLength)
                {
                    return false;
                }

                f.Protocol = TrafficProtocol.Udp;
                f.SrcPort = BinaryPrimitives.ReadUInt16BigEndian(l4);
                f.DstPort = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
                f.PayloadLength = l4.Length - FrameWriter.UdpLength;
                return true;
            case IpProtocols.Icmp:
                if (l4.Length < FrameWriter.IcmpLength || l4[1] != 0 || (l4[0] != FrameWriter.IcmpEchoRequest && l4[0] != FrameWriter.IcmpEchoReply))
                {
                    return false;
                }

                f.Protocol = TrafficProtocol.Icmp;
                f.IcmpType = l4[0];
                f.SrcPort = BinaryPrimitives.ReadUInt16BigEndian(l4[4..]);
                f.DstPort = f.SrcPort;
                f.IcmpSequence = BinaryPrimitives.ReadUInt16BigEndian(l4[6..]);
                f.PayloadLength = l4.Length - FrameWriter.IcmpLength;
                return true;
            default:
                return false;
        }
    }

    private static bool ParseTcp(ReadOnlySpan<byte> l4, ref DeliveredFrame f)
    {
        if (l4.Length < FrameWriter.TcpLength)
        {
            return false;
        }

        int dataOffset = (l4[12] >> 4) * 4;
        if (dataOffset < FrameWriter.TcpLength || dataOffset > l4.Length)
        {
            return false;
        }

        f.Protocol = TrafficProtocol.Tcp;
        f.SrcPort = BinaryPrimitives.ReadUInt16BigEndian(l4);
        f.DstPort = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
        f.TcpSeq = BinaryPrimitives.ReadUInt32BigEndian(l4[4..]);
        f.TcpFlags = l4[13];
        f.PayloadLength = l4.Length - dataOffset;
        return true;
    }
}
