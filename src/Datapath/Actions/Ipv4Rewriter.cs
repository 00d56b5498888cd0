using System.Buffers.Binary;
using Datapath.Packets;

namespace Datapath.Actions;

/// <summary>
/// Masked IPv4 header rewrites with incremental checksum updates (Open vSwitch's odp_set_ipv4,
/// packet_set_ipv4_addr). The caller has checked that a whole IPv4 header starts at <c>l3</c>;
/// <c>l4</c> is -1 when the transport header is absent (a later fragment), and then only the IP
/// header changes.
/// </summary>
internal static class Ipv4Rewriter
{
    public const int SourceOffset = 12;
    public const int DestinationOffset = 16;
    private const int TosOffset = 1;
    private const int TtlOffset = 8;
    private const int ProtocolOffset = 9;

    /// <summary>Sets the address at <paramref name="fieldOffset"/> and fixes the header and transport checksums.</summary>
    public static void SetAddress(Span<byte> frame, int l3, int l4, int fieldOffset, uint value, uint mask)
    {
        Span<byte> field = frame.Slice(l3 + fieldOffset, 4);
        uint old = BinaryPrimitives.ReadUInt32BigEndian(field);
        uint updated = (old & ~mask) | (value & mask);
        if (updated == old)
        {
            return;
        }

        ulong delta = Checksum.Delta32(old, updated);
        if (l4 > l3)
        {
            int end = L3Header.DatagramEnd(frame, l3, L3Kind.Ipv4);
            TransportRewriter.AdjustForPseudoHeader(frame, l4, end, frame[l3 + ProtocolOffset], ipv6: false, delta);
        }

        AdjustHeaderChecksum(frame, l3, delta);
        BinaryPrimitives.WriteUInt32BigEndian(field, updated);
    }

    /// <summary>Sets the TOS byte (DSCP and ECN; the mask decides which bits change).</summary>
    public static void SetTos(Span<byte> frame, int l3, byte value, byte mask) =>
        SetHeaderByte(frame, l3, TosOffset, value, mask);

    /// <summary>Sets the time to live.</summary>
    public static void SetTtl(Span<byte> frame, int l3, byte value, byte mask) =>
        SetHeaderByte(frame, l3, TtlOffset, value, mask);

    // The checksum covers 16-bit words: update with the whole word that holds the byte.
    private static void SetHeaderByte(Span<byte> frame, int l3, int offset, byte value, byte mask)
    {
        int wordOffset = l3 + (offset & ~1);
        ushort oldWord = BinaryPrimitives.ReadUInt16BigEndian(frame[wordOffset..]);
        byte old = frame[l3 + offset];
        byte updated = (byte)((old & ~mask) | (value & mask));
        if (updated == old)
        {
            return;
        }

        frame[l3 + offset] = updated;
        ushort newWord = BinaryPrimitives.ReadUInt16BigEndian(frame[wordOffset..]);
        Span<byte> csum = frame.Slice(l3 + Checksum.Ipv4ChecksumOffset, 2);
        BinaryPrimitives.WriteUInt16BigEndian(csum, Checksum.Update16(BinaryPrimitives.ReadUInt16BigEndian(csum), oldWord, newWord));
    }

    private static void AdjustHeaderChecksum(Span<byte> frame, int l3, ulong delta)
    {
        Span<byte> csum = frame.Slice(l3 + Checksum.Ipv4ChecksumOffset, 2);
        BinaryPrimitives.WriteUInt16BigEndian(csum, Checksum.Adjust(BinaryPrimitives.ReadUInt16BigEndian(csum), delta));
    }
}
