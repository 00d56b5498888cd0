using System.Buffers.Binary;
using Datapath.Actions;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Conntrack.Nat;

/// <summary>
/// Writes a <see cref="NatRewrite"/> into a packet (OVS nat_packet, pat_packet and
/// nat_inner_packet): addresses and ports with every covering checksum updated incrementally, as
/// OVS's packet_set_ipv4_addr, packet_set_ipv6_addr and packet_set_tcp/udp_port do; for an ICMP
/// error also the quoted packet (the opposite address and both ports, its IPv4 header checksum
/// and, when the quote holds it, its TCP or UDP checksum), then the ICMP checksum in full.
/// Works on the offsets the packet's last flow extraction recorded; a later IP fragment (no L4
/// offset) gets its addresses only. Hand-written because it runs per translated packet;
/// allocation-free. Never reads or writes outside the frame: a quote cut short keeps what it lacks.
/// </summary>
public static class NatRewriter
{
    private const int IcmpHeaderLength = 8;
    private const int IcmpChecksumOffset = 2;
    private const int TcpChecksumOffset = 16;
    private const int UdpChecksumOffset = 6;
    private const int Ipv4ProtocolOffset = 9;

    /// <summary>Applies <paramref name="rewrite"/> to <paramref name="packet"/>.</summary>
    /// <returns>False when the packet has no IP header matching the rewrite (nothing is changed).</returns>
    public static bool Apply(Packet packet, in NatRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(packet);
        if (rewrite.IsNone)
        {
            return true;
        }

        Span<byte> frame = packet.Data;
        int l3 = packet.L3Offset;
        var kind = L3Header.Classify(frame, l3);
        if (kind != (rewrite.IsIpv6 ? L3Kind.Ipv6 : L3Kind.Ipv4))
        {
            return false;
        }

        int l4 = packet.L4Offset;
        SetAddress(frame, l3, l4, kind, rewrite.Source, rewrite.Source ? rewrite.Src : rewrite.Dst);
        if (l4 < 0)
        {
            return true;
        }

        int end = L3Header.DatagramEnd(frame, l3, kind);
        if (rewrite.Kind == NatRewriteKind.Packet)
        {
            if (rewrite.Protocol is IpProtocols.Tcp or IpProtocols.Udp)
            {
                TransportRewriter.SetPort(frame, l4, end, rewrite.Protocol, 0, rewrite.SrcPort, 0xFFFF);
                TransportRewriter.SetPort(frame, l4, end, rewrite.Protocol, 2, rewrite.DstPort, 0xFFFF);
            }

            return true;
        }

        return RewriteError(frame, l3, l4, end, kind, in rewrite);
    }

    private static void SetAddress(Span<byte> frame, int l3, int l4, L3Kind kind, bool source, UInt128 value)
    {
        if (kind == L3Kind.Ipv4)
        {
            Ipv4Rewriter.SetAddress(frame, l3, l4, source ? Ipv4Rewriter.SourceOffset : Ipv4Rewriter.DestinationOffset, (uint)value, uint.MaxValue);
        }
        else
        {
            Ipv6Rewriter.SetAddress(frame, l3, l4, source ? Ipv6Rewriter.SourceOffset : Ipv6Rewriter.DestinationOffset, value, UInt128.MaxValue);
        }
    }

    /// <summary>
    /// The quoted packet travels against the error: it takes the reverse of the rewrite's tuple,
    /// on the other address (OVS reverses the NAT action for the inner header).
    /// </summary>
    private static bool RewriteError(Span<byte> frame, int l3, int l4, int end, L3Kind kind, in NatRewrite rewrite)
    {
        int innerL3 = l4 + IcmpHeaderLength;
        if (!TryInner(frame, innerL3, end, kind, out int innerL4, out byte protocol))
        {
            return false;
        }

        // Ports first, then the address, as nat_inner_packet does.
        if (protocol == rewrite.Protocol && protocol is IpProtocols.Tcp or IpProtocols.Udp)
        {
            SetInnerPort(frame, innerL4, end, protocol, 0, rewrite.DstPort);
            SetInnerPort(frame, innerL4, end, protocol, 2, rewrite.SrcPort);
        }

        bool innerSource = !rewrite.Source;
        UInt128 innerValue = innerSource ? rewrite.Dst : rewrite.Src;
        if (kind == L3Kind.Ipv4)
        {
            SetInnerIpv4Address(frame, innerL3, innerL4, end, protocol, innerSource, (uint)innerValue);
            Span<byte> icmp = frame[l4..end];
            BinaryPrimitives.WriteUInt16BigEndian(icmp[IcmpChecksumOffset..], Checksum.Transport(0, icmp, IcmpChecksumOffset));
        }
        else
        {
            SetInnerIpv6Address(frame, innerL3, innerL4, end, protocol, innerSource, innerValue);
            Span<byte> icmp = frame[l4..end];
            UInt128 src = BinaryPrimitives.ReadUInt128BigEndian(frame[(l3 + Ipv6Rewriter.SourceOffset)..]);
            UInt128 dst = BinaryPrimitives.ReadUInt128BigEndian(frame[(l3 + Ipv6Rewriter.DestinationOffset)..]);
            ulong pseudo = Checksum.PseudoHeaderV6(src, dst, IpProtocols.Icmpv6, icmp.Length);
            BinaryPrimitives.WriteUInt16BigEndian(icmp[IcmpChecksumOffset..], Checksum.Transport(pseudo, icmp, IcmpChecksumOffset));
        }

        return true;
    }

    /// <summary>Finds the quoted header's transport offset and protocol (conntrack parsed it already; this re-checks bounds).</summary>
    private static bool TryInner(ReadOnlySpan<byte> frame, int innerL3, int end, L3Kind kind, out int innerL4, out byte protocol)
    {
        innerL4 = -1;
        protocol = 0;
        if (kind == L3Kind.Ipv4)
        {
            if (end - innerL3 < L3Header.Ipv4MinLength)
            {
                return false;
            }

            int ihl = (frame[innerL3] & 0x0F) * 4;
            if (ihl < L3Header.Ipv4MinLength || innerL3 + ihl > end)
            {
                return false;
            }

            innerL4 = innerL3 + ihl;
            protocol = frame[innerL3 + Ipv4ProtocolOffset];
            return true;
        }

        if (end - innerL3 < L3Header.Ipv6Length)
        {
            return false;
        }

        byte next = frame[innerL3 + 6];
        var walk = Ipv6Extensions.Walk(frame[(innerL3 + L3Header.Ipv6Length)..end], ref next, out int extLength);
        if (walk != ConntrackCounter.None)
        {
            return false;
        }

        innerL4 = innerL3 + L3Header.Ipv6Length + extLength;
        protocol = next;
        return true;
    }

    /// <summary>
    /// A quoted TCP or UDP port: the port bytes are always quoted (conntrack keyed them); the
    /// checksum is updated only when the quote holds it (an ICMPv4 error may quote 8 bytes of L4).
    /// </summary>
    private static void SetInnerPort(Span<byte> frame, int l4, int end, byte protocol, int portOffset, ushort value)
    {
        ushort old = BinaryPrimitives.ReadUInt16BigEndian(frame[(l4 + portOffset)..]);
        if (old == value)
        {
            return;
        }

        AdjustInnerChecksum(frame, l4, end, protocol, (ulong)(ushort)~old + value, forAddress: false);
        BinaryPrimitives.WriteUInt16BigEndian(frame[(l4 + portOffset)..], value);
    }

    private static void SetInnerIpv4Address(Span<byte> frame, int l3, int l4, int end, byte protocol, bool source, uint value)
    {
        Span<byte> field = frame.Slice(l3 + (source ? Ipv4Rewriter.SourceOffset : Ipv4Rewriter.DestinationOffset), 4);
        uint old = BinaryPrimitives.ReadUInt32BigEndian(field);
        if (old == value)
        {
            return;
        }

        ulong delta = Checksum.Delta32(old, value);
        AdjustInnerChecksum(frame, l4, end, protocol, delta, forAddress: true);
        Span<byte> csum = frame.Slice(l3 + Checksum.Ipv4ChecksumOffset, 2);
        BinaryPrimitives.WriteUInt16BigEndian(csum, Checksum.Adjust(BinaryPrimitives.ReadUInt16BigEndian(csum), delta));
        BinaryPrimitives.WriteUInt32BigEndian(field, value);
    }

    private static void SetInnerIpv6Address(Span<byte> frame, int l3, int l4, int end, byte protocol, bool source, UInt128 value)
    {
        Span<byte> field = frame.Slice(l3 + (source ? Ipv6Rewriter.SourceOffset : Ipv6Rewriter.DestinationOffset), 16);
        UInt128 old = BinaryPrimitives.ReadUInt128BigEndian(field);
        if (old == value)
        {
            return;
        }

        AdjustInnerChecksum(frame, l4, end, protocol, Checksum.Delta128(old, value), forAddress: true);
        BinaryPrimitives.WriteUInt128BigEndian(field, value);
    }

    /// <summary>
    /// The quoted TCP or UDP checksum (UDP: unless 0, "none"). After an address change OVS updates
    /// it only when a whole TCP (20 bytes) or UDP (8 bytes) header is quoted; after a port change
    /// whenever the field is there.
    /// </summary>
    private static void AdjustInnerChecksum(Span<byte> frame, int l4, int end, byte protocol, ulong delta, bool forAddress)
    {
        int offset = protocol switch
        {
            IpProtocols.Tcp => TcpChecksumOffset,
            IpProtocols.Udp => UdpChecksumOffset,
            _ => -1,
        };
        int needed = !forAddress ? offset + 2 : protocol == IpProtocols.Tcp ? 20 : 8;
        if (offset < 0 || end - l4 < needed)
        {
            return;
        }

        Span<byte> field = frame.Slice(l4 + offset, 2);
        ushort csum = BinaryPrimitives.ReadUInt16BigEndian(field);
        if (protocol == IpProtocols.Udp && csum == 0)
        {
            return;
        }

        csum = Checksum.Adjust(csum, delta);
        BinaryPrimitives.WriteUInt16BigEndian(field, protocol == IpProtocols.Udp && csum == 0 ? (ushort)0xFFFF : csum);
    }
}
