using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TestSupport.Frames;

/// <summary>
/// Where a frame starts: <c>Frame.Ethernet()</c>, or the IP shortcuts that start with the default
/// Ethernet header. For example
/// <code>
/// byte[] syn = Frame.Ip("10.0.0.1", "10.0.0.2").Tcp(40000, 80, TcpFlags.Syn, seq: 1000).Build();
/// byte[] tagged = Frame.Ethernet().Vlan(0x2064).Ipv6("fd00::1", "fd00::2").HopByHop().Udp(546, 547).Payload(12).Build();
/// List&lt;byte[]&gt; pieces = Frame.Ip("10.0.0.1", "10.0.0.2").Udp(1, 2).Payload(4000).BuildFragments(1480);
/// </code>
/// </summary>
public static class Frame
{
    /// <summary>The default source MAC (a locally administered address, h1 of the captures).</summary>
    public const string Mac1 = "02:00:00:00:00:01";

    /// <summary>The default destination MAC (h2 of the captures).</summary>
    public const string Mac2 = "02:00:00:00:00:02";

    /// <summary>An Ethernet header from <paramref name="source"/> to <paramref name="destination"/> (MACs as 02:00:00:00:00:01 or 02-00-...).</summary>
    public static FrameBuilder Ethernet(string source = Mac1, string destination = Mac2) => new(Mac(source), Mac(destination));

    /// <summary>An Ethernet header with the MACs as 48-bit numbers (0x0200_0000_0001).</summary>
    public static FrameBuilder Ethernet(ulong source, ulong destination) => new(Mac(source), Mac(destination));

    /// <summary>Default Ethernet, then IPv4 or IPv6 as the addresses are.</summary>
    public static FrameBuilder Ip(string source, string destination) => Ethernet().Ip(source, destination);

    /// <summary>Default Ethernet, then IPv4.</summary>
    public static FrameBuilder Ipv4(string source, string destination) => Ethernet().Ipv4(source, destination);

    /// <summary>Default Ethernet, then IPv4 with the addresses as numbers (0x0A000001 is 10.0.0.1).</summary>
    public static FrameBuilder Ipv4(uint source, uint destination) => Ethernet().Ipv4(source, destination);

    /// <summary>Default Ethernet, then IPv6.</summary>
    public static FrameBuilder Ipv6(string source, string destination) => Ethernet().Ipv6(source, destination);

    /// <summary>Default Ethernet, then IPv6 with the addresses as numbers.</summary>
    public static FrameBuilder Ipv6(UInt128 source, UInt128 destination) => Ethernet().Ipv6(source, destination);

    internal static byte[] Mac(string text)
    {
        string[] parts = text.Split(':', '-');
        if (parts.Length != 6)
        {
            throw new ArgumentException($"not a MAC address: '{text}'", nameof(text));
        }

        return parts.Select(p => byte.Parse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
    }

    internal static byte[] Mac(ulong value)
    {
        var mac = new byte[6];
        for (int i = 0; i < 6; i++)
        {
            mac[i] = (byte)(value >> (40 - (8 * i)));
        }

        return mac;
    }

    internal static byte[] Address(string text, AddressFamily family)
    {
        var address = IPAddress.Parse(text);
        if (address.AddressFamily != family)
        {
            throw new ArgumentException($"'{text}' is not an {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address", nameof(text));
        }

        return address.GetAddressBytes();
    }

    internal static bool IsIpv6(string text) => IPAddress.Parse(text).AddressFamily == AddressFamily.InterNetworkV6;
}
