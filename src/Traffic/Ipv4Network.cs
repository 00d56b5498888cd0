using System.Globalization;
using System.Net;

namespace Traffic;

/// <summary>An IPv4 prefix whose host addresses the generator hands out to one side (e.g. 10.0.0.0/16).</summary>
public readonly record struct Ipv4Network
{
    public Ipv4Network(uint address, int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        PrefixLength = prefixLength;
        Address = prefixLength == 0 ? 0 : address & (uint.MaxValue << (32 - prefixLength));
    }

    /// <summary>The network address (host bits cleared).</summary>
    public uint Address { get; }

    public int PrefixLength { get; }

    /// <summary>
    /// Usable host addresses: all of them for /31 and /32, otherwise without the network and
    /// broadcast addresses. Capped at 2^24 (more is never needed to give connections distinct hosts).
    /// </summary>
    public int HostCount => PrefixLength >= 31 ? 1 << (32 - PrefixLength) : (int)Math.Min((1L << (32 - PrefixLength)) - 2, 1 << 24);

    /// <summary>The <paramref name="index"/>-th usable host address (0-based, wraps modulo <see cref="HostCount"/>).</summary>
    public uint Host(int index) => Address + (PrefixLength >= 31 ? 0u : 1u) + (uint)(index % HostCount);

    /// <summary>Parses "a.b.c.d/len".</summary>
    /// <exception cref="FormatException">The text is not an IPv4 prefix.</exception>
    public static Ipv4Network Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0
            || !IPAddress.TryParse(text.AsSpan(0, slash), out var ip)
            || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
            || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int length)
            || length > 32)
        {
            throw new FormatException($"'{text}' is not an IPv4 prefix such as 10.0.0.0/16.");
        }

        Span<byte> bytes = stackalloc byte[4];
        ip.TryWriteBytes(bytes, out _);
        return new Ipv4Network(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes), length);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Address >> 24}.{(Address >> 16) & 0xFF}.{(Address >> 8) & 0xFF}.{Address & 0xFF}/{PrefixLength}");
}
