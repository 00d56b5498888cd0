using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using Datapath.Flow;
using Datapath.Packets;
using PacketDotNet;
using PacketDotNet.Utils;
using PdnPacket = PacketDotNet.Packet;

namespace Datapath.Tests.Flow;

/// <summary>
/// Frames for extraction tests, built with PacketDotNet where its API can (Ethernet, IPv4, IPv6,
/// TCP, UDP, ARP) and from raw bytes inside PacketDotNet packets where it cannot (ICMP bodies,
/// ND, SCTP, IGMP, IPv6 extension headers, TCP options), plus byte-level edits PacketDotNet has
/// no API for (VLAN tags, IPv4 options, LLC).
/// </summary>
internal static class TestFrames
{
    public static readonly PhysicalAddress MacA = PhysicalAddress.Parse("02-00-00-00-00-01");
    public static readonly PhysicalAddress MacB = PhysicalAddress.Parse("0A-1B-2C-3D-4E-5F");
    public static readonly IPAddress V4A = IPAddress.Parse("10.0.0.1");
    public static readonly IPAddress V4B = IPAddress.Parse("192.168.7.9");
    public static readonly IPAddress V6A = IPAddress.Parse("fd00::1");
    public static readonly IPAddress V6B = IPAddress.Parse("2001:db8:85a3::8a2e:370:7334");

    public const int Ttl = 37;
    public const int Tos = 0xB9;
    public const int TrafficClass = 0x6D;
    public const int FlowLabel = 0xABCDE;

    public static byte[] Ethernet(EthernetType type, PdnPacket payload) =>
        new EthernetPacket(MacA, MacB, type) { PayloadPacket = payload }.Bytes;

    public static byte[] Ethernet(ushort type, byte[] payload)
    {
        var frame = new byte[14 + payload.Length];
        MacB.GetAddressBytes().CopyTo(frame, 0);
        MacA.GetAddressBytes().CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), type);
        payload.CopyTo(frame, 14);
        return frame;
    }

    public static IPv4Packet Ipv4(PdnPacket l4)
    {
        var ip = new IPv4Packet(V4A, V4B) { PayloadPacket = l4, TimeToLive = Ttl, TypeOfService = Tos };
        ip.UpdateCalculatedValues();
        ip.UpdateIPChecksum();
        return ip;
    }

    public static IPv4Packet Ipv4(byte protocol, byte[] payload, int fragmentFlags = 0, int fragmentOffset = 0)
    {
        var ip = new IPv4Packet(V4A, V4B)
        {
            PayloadData = payload,
            Protocol = (ProtocolType)protocol,
            TimeToLive = Ttl,
            TypeOfService = Tos,
            FragmentFlags = fragmentFlags,
            FragmentOffset = fragmentOffset,
        };
        ip.UpdateCalculatedValues();
        ip.UpdateIPChecksum();
        return ip;
    }

    public static IPv6Packet Ipv6(PdnPacket l4)
    {
        var ip = new IPv6Packet(V6A, V6B) { PayloadPacket = l4, HopLimit = Ttl, TrafficClass = TrafficClass, FlowLabel = FlowLabel };
        ip.UpdateCalculatedValues();
        return ip;
    }

    /// <summary>IPv6 whose payload (extension headers and L4) is given as bytes.</summary>
    public static IPv6Packet Ipv6(byte nextHeader, byte[] payload) =>
        new(V6A, V6B)
        {
            PayloadData = payload,
            NextHeader = (ProtocolType)nextHeader,
            PayloadLength = (ushort)payload.Length,
            HopLimit = Ttl,
            TrafficClass = TrafficClass,
            FlowLabel = FlowLabel,
        };

    /// <summary>A TCP header with options (PacketDotNet cannot resize its header), parsed by PacketDotNet.</summary>
    public static TcpPacket Tcp(ushort sport, ushort dport, ushort flags, byte[] options)
    {
        var bytes = new byte[20 + options.Length + 5];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, sport);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), 0x1234_5678);
        int words = (20 + options.Length) / 4;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(12), (ushort)((words << 12) | flags));
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(14), 65535);
        options.CopyTo(bytes, 20);
        return new TcpPacket(new ByteArraySegment(bytes));
    }

    public static byte[] IcmpEcho(byte type, ushort id) => [type, 0, 0, 0, (byte)(id >> 8), (byte)id, 0, 1, 0xAA, 0xBB];

    /// <summary>Inserts a VLAN tag right after the MAC addresses (outermost position).</summary>
    public static byte[] WithVlan(byte[] frame, ushort tpid, ushort tci)
    {
        var tagged = new byte[frame.Length + 4];
        frame.AsSpan(0, 12).CopyTo(tagged);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(12), tpid);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(14), tci);
        frame.AsSpan(12).CopyTo(tagged.AsSpan(16));
        return tagged;
    }

    /// <summary>Inserts IPv4 options into an untagged Ethernet/IPv4 frame, fixing IHL, total length and checksum.</summary>
    public static byte[] WithIpv4Options(byte[] frame, byte[] options)
    {
        Assert.Equal(0, options.Length % 4);
        var result = new byte[frame.Length + options.Length];
        frame.AsSpan(0, 34).CopyTo(result);
        options.CopyTo(result, 34);
        frame.AsSpan(34).CopyTo(result.AsSpan(34 + options.Length));
        result[14] = (byte)(0x40 | ((20 + options.Length) / 4));
        ushort total = BinaryPrimitives.ReadUInt16BigEndian(result.AsSpan(16));
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(16), (ushort)(total + options.Length));
        var ip = (IPv4Packet)((EthernetPacket)PdnPacket.ParsePacket(LinkLayers.Ethernet, result)).PayloadPacket;
        ip.UpdateIPChecksum();
        return result;
    }

    /// <summary>An ICMPv6 neighbour solicitation (135) or advertisement (136) with raw options.</summary>
    public static byte[] NeighborDiscovery(byte type, IPAddress target, byte[] options, byte code = 0)
    {
        var body = new byte[24 + options.Length];
        body[0] = type;
        body[1] = code;
        if (type == 136)
        {
            body[4] = 0x60; // solicited, override
        }

        target.GetAddressBytes().CopyTo(body, 8);
        options.CopyTo(body, 24);
        return body;
    }

    /// <summary>A source (1) or target (2) link-layer address option.</summary>
    public static byte[] LinkLayerOption(byte type, PhysicalAddress mac) => [type, 1, .. mac.GetAddressBytes()];

    public static FlowKey Extract(byte[] frame, ExtractionStats stats, out int l3, out int l4, in PacketMetadata metadata = default)
    {
        var key = default(FlowKey);
        FlowExtractor.Extract(frame, in metadata, ref key, stats, out l3, out l4);
        return key;
    }

    /// <summary>Extracts <paramref name="frame"/> and asserts that key and offsets agree with PacketDotNet and nothing was counted.</summary>
    public static FlowKey ExtractAndCompare(byte[] frame)
    {
        var stats = new ExtractionStats();
        var packet = new Datapath.Packets.Packet();
        packet.SetFrame(frame, inPort: 7);
        var key = default(FlowKey);
        FlowExtractor.Extract(packet, ref key, stats);

        var expected = PacketDotNetFlowKey.From(frame, in packet.Metadata);
        FlowKeyAssert.Equal(expected.Key, key);
        Assert.Equal(expected.L3Offset, packet.L3Offset);
        Assert.Equal(expected.L4Offset, packet.L4Offset);
        Assert.Equal(0, stats.Total);
        return key;
    }
}
