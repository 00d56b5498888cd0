using System.Buffers.Binary;
using Datapath.Flow;
using Datapath.Packets;

namespace Traffic.Tests;

/// <summary>
/// One generated frame as the test reads it: the product's flow extraction for the headers, raw
/// bytes for what the flow key does not hold (sequence numbers, echo identifier), and the
/// frame's checksums verified independently of the generator.
/// </summary>
internal readonly record struct ObservedFrame(
    uint InPort,
    byte Protocol,
    uint Src,
    uint Dst,
    ushort SrcPort,
    ushort DstPort,
    byte TcpFlags,
    uint Seq,
    uint Ack,
    ushort Window,
    int PayloadLength,
    byte IcmpType,
    ushort IcmpSeq,
    int FrameLength,
    int IpTotalLength,
    ushort Mss,
    bool ChecksumsValid,
    long Malformed)
{
    public const byte Fin = 0x01;
    public const byte Syn = 0x02;
    public const byte Rst = 0x04;
    public const byte Ack_ = 0x10;

    /// <summary>The same value for both directions of one connection.</summary>
    public (byte, ulong, ulong) Connection
    {
        get
        {
            ulong a = ((ulong)Src << 16) | SrcPort;
            ulong b = ((ulong)Dst << 16) | DstPort;
            return a < b ? (Protocol, a, b) : (Protocol, b, a);
        }
    }

    public (uint, ushort) Sender => (Src, SrcPort);

    public bool IsData => Protocol != IpProtocols.Tcp || PayloadLength > 0;

    public static ObservedFrame Read(Packet packet)
    {
        var stats = new ExtractionStats();
        var key = default(FlowKey);
        FlowExtractor.Extract(packet, ref key, stats);
        var frame = packet.Data;
        var ip = frame[packet.L3Offset..];
        int total = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        var l4 = frame.Slice(packet.L4Offset, total - (packet.L4Offset - packet.L3Offset));
        ulong pseudo = Checksum.PseudoHeaderV4(key.NwSrc, key.NwDst, key.NwProto, l4.Length);
        bool ipValid = Checksum.IsIpv4HeaderValid(ip[..((ip[0] & 0xF) * 4)]);
        return key.NwProto switch
        {
            IpProtocols.Tcp => new ObservedFrame(
                key.InPort, key.NwProto, key.NwSrc, key.NwDst, key.TpSrc, key.TpDst, (byte)key.TcpFlags,
                BinaryPrimitives.ReadUInt32BigEndian(l4[4..]), BinaryPrimitives.ReadUInt32BigEndian(l4[8..]),
                BinaryPrimitives.ReadUInt16BigEndian(l4[14..]), l4.Length - ((l4[12] >> 4) * 4), 0, 0,
                frame.Length, total, (l4[12] >> 4) > 5 && l4[20] == 2 && l4[21] == 4 ? BinaryPrimitives.ReadUInt16BigEndian(l4[22..]) : (ushort)0,
                ipValid && Checksum.Fold(Checksum.Accumulate(pseudo, l4)) == 0xFFFF, stats.Total),
            IpProtocols.Udp => new ObservedFrame(
                key.InPort, key.NwProto, key.NwSrc, key.NwDst, key.TpSrc, key.TpDst, 0, 0, 0, 0, l4.Length - 8, 0, 0,
                frame.Length, total, 0,
                ipValid && BinaryPrimitives.ReadUInt16BigEndian(l4[6..]) != 0 && Checksum.Fold(Checksum.Accumulate(pseudo, l4)) == 0xFFFF, stats.Total),
            IpProtocols.Icmp => new ObservedFrame(
                key.InPort, key.NwProto, key.NwSrc, key.NwDst,
                BinaryPrimitives.ReadUInt16BigEndian(l4[4..]), BinaryPrimitives.ReadUInt16BigEndian(l4[4..]), 0, 0, 0, 0,
                l4.Length - 8, key.IcmpType, BinaryPrimitives.ReadUInt16BigEndian(l4[6..]),
                frame.Length, total, 0, ipValid && Checksum.Fold(Checksum.Accumulate(0, l4)) == 0xFFFF, stats.Total),
            _ => throw new InvalidOperationException($"Unexpected IP protocol {key.NwProto}."),
        };
    }
}
