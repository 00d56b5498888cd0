using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Datapath.Packets;

/// <summary>
/// IP addresses as a user types them in flow text and dpctl arguments, read strictly. Not
/// <see cref="IPAddress.TryParse(string?, out IPAddress?)"/> alone: it also takes inet_aton's forms
/// ("10.1", "167772161", octal "010.0.0.1" as 8.0.0.1) and IPv6 brackets and scopes ("fe80::1%eth0",
/// the scope dropped), each of which would silently name an address nobody typed.
/// </summary>
public static class AddressText
{
    private static readonly SearchValues<char> Ipv6Characters = SearchValues.Create("0123456789abcdefABCDEF:.");

    /// <summary>a.b.c.d, four decimal parts 0..255 (a leading zero is decimal, as ovs-ofctl reads it).</summary>
    public static bool TryParseIpv4(string text, out uint address)
    {
        ArgumentNullException.ThrowIfNull(text);
        address = 0;
        string[] parts = text.Split('.');
        if (parts.Length != 4)
        {
            return false;
        }

        foreach (string part in parts)
        {
            if (part.Length is < 1 or > 3 || !byte.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out byte b))
            {
                address = 0;
                return false;
            }

            address = (address << 8) | b;
        }

        return true;
    }

    /// <summary>An IPv6 address of hex digits, colons and dots only (no brackets, no scope).</summary>
    public static bool TryParseIpv6(string text, out UInt128 address)
    {
        ArgumentNullException.ThrowIfNull(text);
        address = 0;
        if (!text.Contains(':', StringComparison.Ordinal) || text.AsSpan().ContainsAnyExcept(Ipv6Characters)
            || !IPAddress.TryParse(text, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out _);
        address = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        return true;
    }
}
