using System.Buffers.Binary;
using Datapath.Packets;

namespace Datapath.Actions;

/// <summary>
/// Applies one masked set-field to a packet's bytes: new = (old AND NOT mask) OR (value AND mask),
/// with every checksum that covers the field updated incrementally (Open vSwitch's
/// odp_execute_masked_set_action and the odp_set_* / packet_set_* functions it calls).
///
/// <para>Value and mask encoding (only the low bits of the field's width count):
/// EthSrc/EthDst: the 48-bit big-endian number the MAC spells (as in <see cref="Flow.FlowKey"/>);
/// Ipv4Src/Ipv4Dst: the address as a 32-bit big-endian number (10.0.0.1 = 0x0A000001);
/// Ipv6Src/Ipv6Dst: the address as a 128-bit big-endian number;
/// NwTos: the IPv4 TOS byte or IPv6 traffic class (DSCP in bits 2-7, ECN in bits 0-1);
/// NwTtl: the IPv4 TTL or IPv6 hop limit; TpSrc/TpDst: the 16-bit TCP, UDP or SCTP port.</para>
///
/// <para>The packet's <see cref="Packet.L3Offset"/> and <see cref="Packet.L4Offset"/> must come from flow
/// extraction. A field whose layer is absent is left alone (OVS installs such actions only under a
/// match that guarantees the layer, and skips a transport rewrite when the header is missing or
/// truncated, as for a later fragment); ports of ICMP are not tp_src/tp_dst here. Offsets and the
/// flow key are not touched: recirculation re-extracts.</para>
/// </summary>
public static class SetFieldAction
{
    private const int EthDstOffset = 0;
    private const int EthSrcOffset = 6;
    private const int EthAddressesLength = 12;
    private const int TpSrcOffset = 0;
    private const int TpDstOffset = 2;
    private const int Ipv4ProtocolOffset = 9;

    /// <summary>Applies <paramref name="args"/> to <paramref name="packet"/>.</summary>
    /// <returns>False when the field's layer is absent, in which case the packet is unchanged.</returns>
    public static bool Apply(Packet packet, in SetFieldArgs args)
    {
        Span<byte> frame = packet.Data;
        switch (args.Target)
        {
            case SetFieldTarget.EthSrc:
                return SetMac(frame, EthSrcOffset, args.Value, args.Mask);
            case SetFieldTarget.EthDst:
                return SetMac(frame, EthDstOffset, args.Value, args.Mask);
            case SetFieldTarget.Ipv4Src:
                return SetIpv4Address(packet, frame, Ipv4Rewriter.SourceOffset, args);
            case SetFieldTarget.Ipv4Dst:
                return SetIpv4Address(packet, frame, Ipv4Rewriter.DestinationOffset, args);
            case SetFieldTarget.Ipv6Src:
                return SetIpv6Address(packet, frame, Ipv6Rewriter.SourceOffset, args);
            case SetFieldTarget.Ipv6Dst:
                return SetIpv6Address(packet, frame, Ipv6Rewriter.DestinationOffset, args);
            case SetFieldTarget.NwTos:
                return SetTos(packet, frame, (byte)args.Value, (byte)args.Mask);
            case SetFieldTarget.NwTtl:
                return SetTtl(packet, frame, (byte)args.Value, (byte)args.Mask);
            case SetFieldTarget.TpSrc:
                return SetPort(packet, frame, TpSrcOffset, (ushort)args.Value, (ushort)args.Mask);
            case SetFieldTarget.TpDst:
                return SetPort(packet, frame, TpDstOffset, (ushort)args.Value, (ushort)args.Mask);
            default:
                return false;
        }
    }

    private static bool SetMac(Span<byte> frame, int offset, UInt128 value, UInt128 mask)
    {
        if (frame.Length < EthAddressesLength)
        {
            return false;
        }

        Span<byte> field = frame.Slice(offset, 6);
        ulong old = ((ulong)BinaryPrimitives.ReadUInt32BigEndian(field) << 16) | BinaryPrimitives.ReadUInt16BigEndian(field[4..]);
        ulong updated = (old & ~(ulong)mask) | ((ulong)value & (ulong)mask);
        BinaryPrimitives.WriteUInt32BigEndian(field, (uint)(updated >> 16));
        BinaryPrimitives.WriteUInt16BigEndian(field[4..], (ushort)updated);
        return true;
    }

    private static bool SetIpv4Address(Packet packet, Span<byte> frame, int fieldOffset, in SetFieldArgs args)
    {
        int l3 = packet.L3Offset;
        if (L3Header.Classify(frame, l3) != L3Kind.Ipv4)
        {
            return false;
        }

        Ipv4Rewriter.SetAddress(frame, l3, TransportOffset(packet, frame), fieldOffset, (uint)args.Value, (uint)args.Mask);
        return true;
    }

    private static bool SetIpv6Address(Packet packet, Span<byte> frame, int fieldOffset, in SetFieldArgs args)
    {
        int l3 = packet.L3Offset;
        if (L3Header.Classify(frame, l3) != L3Kind.Ipv6)
        {
            return false;
        }

        Ipv6Rewriter.SetAddress(frame, l3, TransportOffset(packet, frame), fieldOffset, args.Value, args.Mask);
        return true;
    }

    private static bool SetTos(Packet packet, Span<byte> frame, byte value, byte mask)
    {
        int l3 = packet.L3Offset;
        switch (L3Header.Classify(frame, l3))
        {
            case L3Kind.Ipv4:
                Ipv4Rewriter.SetTos(frame, l3, value, mask);
                return true;
            case L3Kind.Ipv6:
                Ipv6Rewriter.SetTrafficClass(frame, l3, value, mask);
                return true;
            default:
                return false;
        }
    }

    private static bool SetTtl(Packet packet, Span<byte> frame, byte value, byte mask)
    {
        int l3 = packet.L3Offset;
        switch (L3Header.Classify(frame, l3))
        {
            case L3Kind.Ipv4:
                Ipv4Rewriter.SetTtl(frame, l3, value, mask);
                return true;
            case L3Kind.Ipv6:
                Ipv6Rewriter.SetHopLimit(frame, l3, value, mask);
                return true;
            default:
                return false;
        }
    }

    private static bool SetPort(Packet packet, Span<byte> frame, int portOffset, ushort value, ushort mask)
    {
        int l3 = packet.L3Offset;
        int l4 = TransportOffset(packet, frame);
        if (l4 < 0)
        {
            return false;
        }

        byte protocol;
        L3Kind kind = L3Header.Classify(frame, l3);
        if (kind == L3Kind.Ipv4)
        {
            protocol = frame[l3 + Ipv4ProtocolOffset];
        }
        else if (kind != L3Kind.Ipv6 || !L3Header.TryFindIpv6UpperLayer(frame, l3, l4, out protocol, out _))
        {
            return false;
        }

        int end = L3Header.DatagramEnd(frame, l3, kind);
        return TransportRewriter.SetPort(frame, l4, end, protocol, portOffset, value, mask);
    }

    // The transport offset when it lies inside the frame after the network header, else -1.
    private static int TransportOffset(Packet packet, ReadOnlySpan<byte> frame)
    {
        int l4 = packet.L4Offset;
        return l4 > packet.L3Offset && l4 < frame.Length ? l4 : -1;
    }
}
