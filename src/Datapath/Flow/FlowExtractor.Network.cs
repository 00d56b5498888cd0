using System.Buffers.Binary;

namespace Datapath.Flow;

/// <summary>L3 parsing: ARP, IPv4, IPv6 and its extension headers.</summary>
public static partial class FlowExtractor
{
    private const int ArpEthIpv4Length = 28;
    private const int Ipv4MinHeaderLength = 20;
    private const int Ipv6HeaderLength = 40;

    // OVS refuses datagrams followed by more than UINT8_MAX bytes of L2 padding.
    private const int MaxL2Padding = 255;

    private const ushort Ipv4MoreFragments = 0x2000;
    private const ushort Ipv4FragOffsetMask = 0x1FFF;

    /// <summary>Ethernet/IPv4 ARP only; other hardware or protocol types leave the L3 fields zero.</summary>
    private static void ParseArp(ReadOnlySpan<byte> arp, ref FlowKey key, ExtractionStats stats)
    {
        if (arp.Length < ArpEthIpv4Length)
        {
            Stop(stats, MalformedReason.TruncatedArp);
            return;
        }

        if (BinaryPrimitives.ReadUInt16BigEndian(arp) != 1
            || BinaryPrimitives.ReadUInt16BigEndian(arp[2..]) != EtherTypes.Ipv4
            || arp[4] != 6
            || arp[5] != 4)
        {
            return;
        }

        // Only the low 8 bits of the opcode can be matched; larger opcodes leave arp_op zero, as in OVS.
        ushort op = BinaryPrimitives.ReadUInt16BigEndian(arp[6..]);
        if (op <= byte.MaxValue)
        {
            key.ArpOp = (byte)op;
        }

        key.ArpSha = FlowKey.ReadMac(arp[8..]);
        key.NwSrc = BinaryPrimitives.ReadUInt32BigEndian(arp[14..]);
        key.ArpTha = FlowKey.ReadMac(arp[18..]);
        key.NwDst = BinaryPrimitives.ReadUInt32BigEndian(arp[24..]);
    }

    /// <summary>
    /// IPv4 with header and total length validated; bytes past the total length are padding and never
    /// parsed. Fragments set nw_frag; L4 is parsed for non-fragments and first fragments only.
    /// </summary>
    /// <returns>The L4 offset, or -1 (invalid header, or a later fragment).</returns>
    private static int ParseIpv4(ReadOnlySpan<byte> frame, int l3, ref FlowKey key, ExtractionStats stats)
    {
        ReadOnlySpan<byte> ip = frame[l3..];
        if (ip.Length < Ipv4MinHeaderLength)
        {
            return Stop(stats, MalformedReason.TruncatedIpv4);
        }

        int headerLength = (ip[0] & 0x0F) * 4;
        if (headerLength < Ipv4MinHeaderLength)
        {
            return Stop(stats, MalformedReason.BadIpv4HeaderLength);
        }

        if (ip.Length < headerLength)
        {
            return Stop(stats, MalformedReason.TruncatedIpv4);
        }

        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (totalLength < headerLength)
        {
            return Stop(stats, MalformedReason.BadIpv4TotalLength);
        }

        if (totalLength > ip.Length)
        {
            return Stop(stats, MalformedReason.TruncatedIpv4);
        }

        if (ip.Length - totalLength > MaxL2Padding)
        {
            return Stop(stats, MalformedReason.ExcessPadding);
        }

        key.NwSrc = BinaryPrimitives.ReadUInt32BigEndian(ip[12..]);
        key.NwDst = BinaryPrimitives.ReadUInt32BigEndian(ip[16..]);
        key.NwTos = ip[1];
        key.NwTtl = ip[8];
        byte proto = ip[9];
        key.NwProto = proto;

        // DF does not make a fragment; MF or a non-zero offset does.
        ushort fragField = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
        if ((fragField & (Ipv4MoreFragments | Ipv4FragOffsetMask)) != 0)
        {
            bool later = (fragField & Ipv4FragOffsetMask) != 0;
            key.NwFrag = later ? (byte)(FlowKey.FragAny | FlowKey.FragLater) : FlowKey.FragAny;
            if (later)
            {
                return -1;
            }
        }

        ParseTransport(ip[headerLength..totalLength], proto, ref key, stats);
        return l3 + headerLength;
    }

    /// <summary>
    /// IPv6 with its extension headers. The addresses and flow label are set once the fixed header
    /// and payload length are valid; tclass, hop limit, proto and frag only when the extension chain
    /// is too (OVS pushes them after parse_ipv6_ext_hdrs). A later fragment's proto is 44 (fragment).
    /// </summary>
    /// <returns>The L4 offset, or -1.</returns>
    private static int ParseIpv6(ReadOnlySpan<byte> frame, int l3, ref FlowKey key, ExtractionStats stats)
    {
        ReadOnlySpan<byte> ip = frame[l3..];
        if (ip.Length < Ipv6HeaderLength)
        {
            return Stop(stats, MalformedReason.TruncatedIpv6);
        }

        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        int available = ip.Length - Ipv6HeaderLength;
        if (payloadLength > available)
        {
            return Stop(stats, MalformedReason.TruncatedIpv6);
        }

        if (available - payloadLength > MaxL2Padding)
        {
            return Stop(stats, MalformedReason.ExcessPadding);
        }

        key.Ipv6Src = FlowKey.ReadIpv6(ip[8..]);
        key.Ipv6Dst = FlowKey.ReadIpv6(ip[24..]);
        uint versionClassLabel = BinaryPrimitives.ReadUInt32BigEndian(ip);
        key.Ipv6Label = versionClassLabel;

        ReadOnlySpan<byte> payload = ip.Slice(Ipv6HeaderLength, payloadLength);
        byte proto = ip[6];
        if (!Ipv6ExtensionHeaders.Skip(payload, ref proto, out int extLength, out byte frag))
        {
            return Stop(stats, MalformedReason.BadIpv6Extension);
        }

        key.NwTos = (byte)(versionClassLabel >> 20);
        key.NwTtl = ip[7];
        key.NwProto = proto;
        key.NwFrag = frag;
        if ((frag & FlowKey.FragLater) != 0)
        {
            return -1;
        }

        ParseTransport(payload[extLength..], proto, ref key, stats);
        return l3 + Ipv6HeaderLength + extLength;
    }
}
