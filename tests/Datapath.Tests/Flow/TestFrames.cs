using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using Datapath.Flow;
using Datapath.Packets;
using TestSupport.Frames;

namespace Datapath.Tests.Flow;

/// <summary>
/// Hosts and frames of the extraction tests: the frames are described with the tests' frame
/// builder between <see cref="MacA"/>/<see cref="V4A"/>/<see cref="V6A"/> and
/// <see cref="MacB"/>/<see cref="V4B"/>/<see cref="V6B"/>, with TTL, TOS and flow label values
/// unlike any default; PacketDotNet reads them back (<see cref="ExtractAndCompare"/>).
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

    /// <summary>An Ethernet header from <see cref="MacA"/> to <see cref="MacB"/>.</summary>
    public static FrameBuilder Eth() => Frame.Ethernet(Text(MacA), Text(MacB));

    /// <summary>IPv4 from <see cref="V4A"/> to <see cref="V4B"/> with <see cref="Ttl"/> and <see cref="Tos"/>.</summary>
    public static FrameBuilder V4() => Eth().Ipv4(V4A.ToString(), V4B.ToString()).Ttl(Ttl).Tos(Tos);

    /// <summary>IPv6 from <see cref="V6A"/> to <see cref="V6B"/> with <see cref="Ttl"/>, <see cref="TrafficClass"/> and <see cref="FlowLabel"/>.</summary>
    public static FrameBuilder V6() => Eth().Ipv6(V6A.ToString(), V6B.ToString()).Ttl(Ttl).Tos(TrafficClass).FlowLabel(FlowLabel);

    /// <summary>An ARP packet (operations above 255 and other hardware types included).</summary>
    public static FrameBuilder Arp(ushort operation, PhysicalAddress senderMac, IPAddress senderIp, PhysicalAddress targetMac, IPAddress targetIp, ushort hardwareType = 1) =>
        Eth().Arp(operation, Text(senderMac), senderIp.ToString(), Text(targetMac), targetIp.ToString(), hardwareType);

    /// <summary>An ICMPv6 neighbour solicitation (135) or advertisement (136, solicited and override) for <paramref name="target"/> with raw options.</summary>
    public static FrameBuilder NeighborDiscovery(byte type, IPAddress target, byte[] options, byte code = 0) =>
        V6().Icmp(type, code, type == 136 ? 0x6000_0000u : 0).Payload([.. target.GetAddressBytes(), .. options]);

    /// <summary>A source (1) or target (2) link-layer address option.</summary>
    public static byte[] LinkLayerOption(byte type, PhysicalAddress mac) => [type, 1, .. mac.GetAddressBytes()];

    private static string Text(PhysicalAddress mac) => string.Join('-', mac.GetAddressBytes().Select(b => b.ToString("X2", CultureInfo.InvariantCulture)));

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
