using System.Buffers.Binary;
using Datapath.Flow;

namespace Datapath.Actions;

/// <summary>Which network header a packet carries at its L3 offset.</summary>
internal enum L3Kind : byte
{
    None,
    Ipv4,
    Ipv6,
}

/// <summary>
/// Read-only questions about the network header that set-field needs: which one it is, where the
/// transport bytes end, and which upper-layer protocol an IPv6 extension-header chain leads to.
/// They trust the offsets flow extraction set, but never read outside the frame.
/// </summary>
internal static class L3Header
{
    public const int Ipv4MinLength = 20;
    public const int Ipv6Length = 40;
    private const int EthTypeLength = 2;
    private const byte AuthenticationHeader = 51;

    /// <summary>
    /// The kind of header at <paramref name="l3"/>, judged by the Ethernet type just before it (the
    /// innermost one, after any VLAN tags) and the version nibble; None if absent or truncated.
    /// </summary>
    public static L3Kind Classify(ReadOnlySpan<byte> frame, int l3)
    {
        if (l3 < EthTypeLength || l3 >= frame.Length)
        {
            return L3Kind.None;
        }

        ushort ethType = BinaryPrimitives.ReadUInt16BigEndian(frame[(l3 - EthTypeLength)..]);
        int version = frame[l3] >> 4;
        if (ethType == EtherTypes.Ipv4 && version == 4)
        {
            int ihl = (frame[l3] & 0x0F) * 4;
            return ihl >= Ipv4MinLength && l3 + ihl <= frame.Length ? L3Kind.Ipv4 : L3Kind.None;
        }

        if (ethType == EtherTypes.Ipv6 && version == 6 && l3 + Ipv6Length <= frame.Length)
        {
            return L3Kind.Ipv6;
        }

        return L3Kind.None;
    }

    /// <summary>
    /// The end of the IP datagram in the frame (excluding Ethernet padding), from the IP length field,
    /// never past the frame (the analogue of dp_packet's l2_pad_size bookkeeping).
    /// </summary>
    public static int DatagramEnd(ReadOnlySpan<byte> frame, int l3, L3Kind kind)
    {
        int end = kind == L3Kind.Ipv4
            ? l3 + BinaryPrimitives.ReadUInt16BigEndian(frame[(l3 + 2)..])
            : l3 + Ipv6Length + BinaryPrimitives.ReadUInt16BigEndian(frame[(l3 + 4)..]);

        // An IPv6 payload length of 0 announces a jumbogram: the frame is the only bound.
        if (kind == L3Kind.Ipv6 && end == l3 + Ipv6Length)
        {
            return frame.Length;
        }

        return Math.Min(end, frame.Length);
    }

    /// <summary>
    /// Walks an IPv6 header's extension chain up to <paramref name="l4"/> and returns the upper-layer
    /// protocol there, and whether a routing header still has segments left (then the destination
    /// address is not the one in the transport pseudo-header, as OVS's packet_rh_present notes).
    /// False when the chain does not lead exactly to <paramref name="l4"/>.
    /// </summary>
    public static bool TryFindIpv6UpperLayer(ReadOnlySpan<byte> frame, int l3, int l4, out byte protocol, out bool routingPending)
    {
        routingPending = false;
        byte next = frame[l3 + 6];
        int offset = l3 + Ipv6Length;
        while (offset < l4 && IsExtensionHeader(next))
        {
            // Every extension header is at least 8 bytes; the fields read here are in those 8.
            if (offset + 8 > frame.Length)
            {
                break;
            }

            byte lengthField = frame[offset + 1];
            int length = next switch
            {
                IpProtocols.Fragment => 8,
                AuthenticationHeader => (lengthField + 2) * 4,
                _ => (lengthField + 1) * 8,
            };

            if (next == IpProtocols.Routing && frame[offset + 3] > 0)
            {
                routingPending = true;
            }

            next = frame[offset];
            offset += length;
        }

        protocol = next;
        return offset == l4;
    }

    private static bool IsExtensionHeader(byte protocol) => protocol switch
    {
        IpProtocols.HopByHop or IpProtocols.Routing or IpProtocols.Fragment
            or IpProtocols.DestinationOptions or AuthenticationHeader => true,
        _ => false,
    };
}
