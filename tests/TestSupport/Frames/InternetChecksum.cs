namespace TestSupport.Frames;

/// <summary>
/// The Internet checksum (RFC 1071) and the pseudo-headers of RFC 768 / RFC 8200 8.1, written
/// here from the RFCs rather than taken from the product, so that frames check the product.
/// </summary>
public static class InternetChecksum
{
    /// <summary>The one's-complement sum of <paramref name="data"/> as big-endian 16-bit words, added to <paramref name="sum"/> (unfolded).</summary>
    public static ulong Add(ReadOnlySpan<byte> data, ulong sum = 0)
    {
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += (uint)((data[i] << 8) | data[i + 1]);
        }

        if (i < data.Length)
        {
            sum += (uint)(data[i] << 8);
        }

        return sum;
    }

    /// <summary>The checksum field value for a running sum: folded to 16 bits and complemented.</summary>
    public static ushort Finish(ulong sum)
    {
        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }

    /// <summary>The checksum of <paramref name="data"/> alone (IPv4 header, ICMPv4 message).</summary>
    public static ushort Of(ReadOnlySpan<byte> data) => Finish(Add(data));

    /// <summary>True when <paramref name="data"/> (checksum field included) sums to all ones.</summary>
    public static bool IsValid(ReadOnlySpan<byte> data, ulong pseudoHeader = 0) => Finish(Add(data, pseudoHeader)) == 0;

    /// <summary>The pseudo-header sum: source and destination addresses (4 or 16 bytes each), protocol and upper-layer length.</summary>
    public static ulong PseudoHeader(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, int length) =>
        Add(destination, Add(source)) + protocol + (uint)length;

    /// <summary>True when an untagged Ethernet/IPv4 frame's header checksum is right.</summary>
    public static bool IsIpv4HeaderValid(ReadOnlySpan<byte> frame) => IsValid(frame.Slice(14, (frame[14] & 0x0F) * 4));

    /// <summary>True when an untagged Ethernet/IPv4 frame's TCP or UDP checksum is right (a UDP checksum of 0, none, counts as right).</summary>
    public static bool IsIpv4TransportValid(ReadOnlySpan<byte> frame)
    {
        ReadOnlySpan<byte> ip = frame[14..];
        int headerLength = (ip[0] & 0x0F) * 4;
        int totalLength = (ip[2] << 8) | ip[3];
        ReadOnlySpan<byte> segment = ip[headerLength..totalLength];
        if (ip[9] == 17 && segment[6] == 0 && segment[7] == 0)
        {
            return true;
        }

        return IsValid(segment, PseudoHeader(ip.Slice(12, 4), ip.Slice(16, 4), ip[9], segment.Length));
    }
}
