using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Datapath.Packets;

/// <summary>
/// The Internet checksum (RFC 1071) and its incremental update (RFC 1624), the analogue of
/// Open vSwitch's lib/csum.c. Values read and written are the big-endian 16-bit numbers that
/// appear on the wire. A "sum" is an unfolded one's-complement accumulator: feed it with
/// <see cref="Accumulate"/> and friends, then <see cref="Fold"/> or <see cref="Finish"/> it.
/// </summary>
public static class Checksum
{
    /// <summary>IPv4 header offset of the header checksum.</summary>
    public const int Ipv4ChecksumOffset = 10;

    /// <summary>
    /// Adds <paramref name="data"/> as big-endian 16-bit words to <paramref name="sum"/>; an odd last
    /// byte is padded with zero. Every chunk but the last must have an even length so words stay aligned.
    /// </summary>
    public static ulong Accumulate(ulong sum, ReadOnlySpan<byte> data)
    {
        // Summed in the machine's byte order, eight bytes a step, and byte-swapped once at the end:
        // the one's-complement sum is the same in either order up to that swap (RFC 1071, 2.B).
        // 32-bit halves into a 64-bit accumulator cannot overflow for any frame size; the fold
        // reduces them modulo 0xFFFF exactly as 16-bit words would be.
        ulong native = 0;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            ulong x = MemoryMarshal.Read<ulong>(data[i..]);
            native += (x & 0xFFFF_FFFF) + (x >> 32);
        }

        if (i + 4 <= data.Length)
        {
            native += MemoryMarshal.Read<uint>(data[i..]);
            i += 4;
        }

        if (i + 2 <= data.Length)
        {
            native += MemoryMarshal.Read<ushort>(data[i..]);
            i += 2;
        }

        if (i < data.Length)
        {
            // An odd last byte is the high byte of a big-endian word padded with zero.
            native += BitConverter.IsLittleEndian ? data[i] : (uint)data[i] << 8;
        }

        ushort folded = Fold(native);
        return sum + (BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(folded) : folded);
    }

    /// <summary>Folds an accumulator to the 16-bit one's-complement sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Fold(ulong sum)
    {
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>The checksum field value for an accumulator: the complement of the folded sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Finish(ulong sum) => (ushort)~Fold(sum);

    /// <summary>The checksum of <paramref name="data"/> alone.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Accumulate(0, data));

    /// <summary>The header checksum an IPv4 header should carry (its checksum field is treated as zero).</summary>
    public static ushort Ipv4Header(ReadOnlySpan<byte> header)
    {
        ulong sum = Accumulate(0, header[..Ipv4ChecksumOffset]);
        return Finish(Accumulate(sum, header[(Ipv4ChecksumOffset + 2)..]));
    }

    /// <summary>True when the IPv4 header, checksum field included, sums to all ones.</summary>
    public static bool IsIpv4HeaderValid(ReadOnlySpan<byte> header) => Fold(Accumulate(0, header)) == 0xFFFF;

    /// <summary>The IPv4 pseudo-header (RFC 793/768) as an accumulator.</summary>
    public static ulong PseudoHeaderV4(uint source, uint destination, byte protocol, int l4Length) =>
        (ulong)source + destination + protocol + (uint)l4Length;

    /// <summary>The IPv6 pseudo-header (RFC 8200 section 8.1) as an accumulator.</summary>
    public static ulong PseudoHeaderV6(UInt128 source, UInt128 destination, byte nextHeader, int l4Length) =>
        Sum128(source) + Sum128(destination) + nextHeader + (uint)l4Length;

    /// <summary>
    /// The checksum a transport segment (TCP, UDP, ICMPv6...) should carry, given its pseudo-header
    /// accumulator; the 16-bit checksum field at <paramref name="checksumOffset"/> (even) is treated as zero.
    /// UDP callers turn a result of 0 into 0xFFFF themselves.
    /// </summary>
    public static ushort Transport(ulong pseudoHeader, ReadOnlySpan<byte> segment, int checksumOffset)
    {
        ulong sum = Accumulate(pseudoHeader, segment[..checksumOffset]);
        return Finish(Accumulate(sum, segment[(checksumOffset + 2)..]));
    }

    /// <summary>RFC 1624 eqn. 3: the checksum after a 16-bit word changes from <paramref name="oldValue"/> to <paramref name="newValue"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Update16(ushort checksum, ushort oldValue, ushort newValue) =>
        Finish((ulong)(ushort)~checksum + (ushort)~oldValue + newValue);

    /// <summary>As <see cref="Update16"/> for an aligned 32-bit field (an IPv4 address).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Update32(ushort checksum, uint oldValue, uint newValue) =>
        Adjust(checksum, Delta32(oldValue, newValue));

    /// <summary>As <see cref="Update16"/> for an aligned 128-bit field (an IPv6 address).</summary>
    public static ushort Update128(ushort checksum, UInt128 oldValue, UInt128 newValue) =>
        Adjust(checksum, Delta128(oldValue, newValue));

    /// <summary>
    /// The accumulator change when a 32-bit field goes from <paramref name="oldValue"/> to
    /// <paramref name="newValue"/>, for fields that several checksums cover (an IPv4 address is in the
    /// header checksum and in the TCP/UDP pseudo-header): apply it with <see cref="Adjust"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Delta32(uint oldValue, uint newValue) => (ulong)~oldValue + newValue;

    /// <summary>As <see cref="Delta32"/> for a 128-bit field.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Delta128(UInt128 oldValue, UInt128 newValue) => Sum128(~oldValue) + Sum128(newValue);

    /// <summary>The checksum after the covered data changed by <paramref name="delta"/> (RFC 1624 eqn. 3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Adjust(ushort checksum, ulong delta) => Finish((ushort)~checksum + delta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Sum128(UInt128 value)
    {
        ulong hi = (ulong)(value >> 64);
        ulong lo = (ulong)value;
        return (hi >> 32) + (uint)hi + (lo >> 32) + (uint)lo;
    }
}
