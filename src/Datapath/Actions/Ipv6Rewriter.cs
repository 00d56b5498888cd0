using System.Buffers.Binary;
using Datapath.Packets;

namespace Datapath.Actions;

/// <summary>
/// Masked IPv6 header rewrites (Open vSwitch's odp_set_ipv6, packet_set_ipv6). IPv6 has no header
/// checksum; the addresses are in the transport pseudo-header (TCP, UDP, ICMPv6), which is fixed
/// incrementally. The caller has checked that a whole IPv6 header starts at <c>l3</c>; <c>l4</c> is -1
/// when the transport header is absent.
/// </summary>
internal static class Ipv6Rewriter
{
    public const int SourceOffset = 8;
    public const int DestinationOffset = 24;
    private const int HopLimitOffset = 7;
    private const uint TrafficClassBits = 0x0FF0_0000;
    private const int TrafficClassShift = 20;

    /// <summary>Sets the address at <paramref name="fieldOffset"/> and fixes the transport checksum.</summary>
    public static void SetAddress(Span<byte> frame, int l3, int l4, int fieldOffset, UInt128 value, UInt128 mask)
    {
        Span<byte> field = frame.Slice(l3 + fieldOffset, 16);
        UInt128 old = BinaryPrimitives.ReadUInt128BigEndian(field);
        UInt128 updated = (old & ~mask) | (value & mask);
        if (updated == old)
        {
            return;
        }

        // With routing segments left, the pseudo-header holds the final destination, not this one.
        if (l4 > l3
            && L3Header.TryFindIpv6UpperLayer(frame, l3, l4, out byte protocol, out bool routingPending)
            && !(routingPending && fieldOffset == DestinationOffset))
        {
            int end = L3Header.DatagramEnd(frame, l3, L3Kind.Ipv6);
            TransportRewriter.AdjustForPseudoHeader(frame, l4, end, protocol, ipv6: true, Checksum.Delta128(old, updated));
        }

        BinaryPrimitives.WriteUInt128BigEndian(field, updated);
    }

    /// <summary>Sets the traffic class (DSCP and ECN; the mask decides which bits change).</summary>
    public static void SetTrafficClass(Span<byte> frame, int l3, byte value, byte mask)
    {
        Span<byte> word = frame.Slice(l3, 4);
        uint old = BinaryPrimitives.ReadUInt32BigEndian(word);
        uint shiftedMask = (uint)mask << TrafficClassShift;
        uint updated = (old & ~shiftedMask) | (((uint)value << TrafficClassShift) & shiftedMask & TrafficClassBits);
        BinaryPrimitives.WriteUInt32BigEndian(word, updated);
    }

    /// <summary>Sets the hop limit.</summary>
    public static void SetHopLimit(Span<byte> frame, int l3, byte value, byte mask)
    {
        ref byte field = ref frame[l3 + HopLimitOffset];
        field = (byte)((field & ~mask) | (value & mask));
    }
}
