using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Conntrack;

/// <summary>
/// Builds a <see cref="ConntrackInput"/> from packet bytes: the analogue of Open vSwitch's
/// conn_key_extract with extract_l3_ipv4/6, check_l4_* and extract_l4_* (lib/conntrack.c).
/// Validates the IPv4 header checksum and the TCP, UDP (unless zero over IPv4), ICMP and ICMPv6
/// checksums as OVS does without hardware offload; refuses fragments (reassemble first), port 0,
/// and ICMP types conntrack does not know. ICMP errors are keyed by the datagram they quote.
/// Stateless and allocation-free.
/// </summary>
public static class ConntrackInputParser
{
    private const int Ipv4HeaderMin = 20;
    private const int Ipv6HeaderLength = 40;
    private const int TcpHeaderMin = 20;
    private const int UdpHeaderLength = 8;
    private const int IcmpHeaderLength = 8;

    // OVS ICMP_ERROR_DATA_L4_LEN: an ICMPv4 error need only quote 8 bytes of the datagram's L4.
    private const int IcmpErrorL4Length = 8;

    private const ushort TcpSyn = 0x02;
    private const byte TcpOptEol = 0;
    private const byte TcpOptNop = 1;
    private const byte TcpOptWindow = 3;
    private const byte MaxWindowScale = 14;
    internal const byte WindowScaleFlag = 0x80;

    /// <summary>Parses the frame whose L3 header starts at <paramref name="l3Offset"/> with ethertype <paramref name="ethType"/>.</summary>
    public static bool TryParse(
        ReadOnlySpan<byte> frame,
        int l3Offset,
        ushort ethType,
        in PacketMetadata metadata,
        ushort zone,
        out ConntrackInput input)
    {
        input = default;
        input.Key.Zone = zone;
        input.PreviousState = metadata.CtState;
        input.PreviousZone = metadata.CtZone;

        ConntrackCounter reason;
        if (l3Offset < 0 || l3Offset > frame.Length)
        {
            reason = ConntrackCounter.NotIp;
        }
        else if (ethType == EtherTypes.Ipv4)
        {
            reason = ParseIpv4(frame[l3Offset..], ref input);
        }
        else if (ethType == EtherTypes.Ipv6)
        {
            reason = ParseIpv6(frame[l3Offset..], ref input);
        }
        else
        {
            reason = ConntrackCounter.NotIp;
        }

        if (reason != ConntrackCounter.None)
        {
            return Invalid(ref input, reason);
        }

        input.ShardHash = ShardHashOf(in input.Key);
        return true;
    }

    /// <summary>
    /// The shard hash of a key: both directions give the same value, and so does the receive side's
    /// <see cref="ConnectionHash.PlacementHash"/> of the packet (no zone; ports only for TCP, UDP and
    /// SCTP, not an ICMP id), so a connection's shard is hosted by the PMD its packets reach.
    /// </summary>
    public static uint ShardHashOf(in ConntrackKey key)
    {
        bool ports = ConnectionHash.PlacesByPorts(key.Protocol);
        ushort sport = ports ? key.SrcPort : (ushort)0;
        ushort dport = ports ? key.DstPort : (ushort)0;
        return key.IsIpv6
            ? ConnectionHash.SymmetricHash(0, key.Protocol, key.Src, sport, key.Dst, dport)
            : ConnectionHash.SymmetricHash(0, key.Protocol, (uint)key.Src, sport, (uint)key.Dst, dport);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool Invalid(ref ConntrackInput input, ConntrackCounter reason)
    {
        ushort zone = input.Key.Zone;
        input.Key = default;
        input.Key.Zone = zone;
        input.IcmpRelated = false;
        input.InvalidReason = reason;

        // Invalid packets need no state; any shard can answer them, so the zone alone spreads them.
        input.ShardHash = ConnectionHash.SymmetricHash(zone, 0, 0u, 0, 0u, 0);
        return false;
    }

    private static ConntrackCounter ParseIpv4(ReadOnlySpan<byte> l3, ref ConntrackInput input)
    {
        if (l3.Length < Ipv4HeaderMin)
        {
            return ConntrackCounter.TruncatedL3;
        }

        int headerLength = (l3[0] & 0x0F) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(l3[2..]);
        if (headerLength < Ipv4HeaderMin || totalLength < headerLength || totalLength > l3.Length)
        {
            return ConntrackCounter.TruncatedL3;
        }

        if (IsIpv4Fragment(l3))
        {
            return ConntrackCounter.Fragment;
        }

        if (!Checksum.IsIpv4HeaderValid(l3[..headerLength]))
        {
            return ConntrackCounter.L3Checksum;
        }

        ref var key = ref input.Key;
        uint src = BinaryPrimitives.ReadUInt32BigEndian(l3[12..]);
        uint dst = BinaryPrimitives.ReadUInt32BigEndian(l3[16..]);
        key.Src = src;
        key.Dst = dst;
        key.Protocol = l3[9];

        // Bytes past the total length are L2 padding, never part of L4 (dp_packet_l4_size).
        ReadOnlySpan<byte> l4 = l3[headerLength..totalLength];
        ulong pseudo = Checksum.PseudoHeaderV4(src, dst, key.Protocol, l4.Length);
        return ParseL4(l4, pseudo, ref input);
    }

    private static ConntrackCounter ParseIpv6(ReadOnlySpan<byte> l3, ref ConntrackInput input)
    {
        if (l3.Length < Ipv6HeaderLength)
        {
            return ConntrackCounter.TruncatedL3;
        }

        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(l3[4..]);
        if (payloadLength > l3.Length - Ipv6HeaderLength)
        {
            return ConntrackCounter.TruncatedL3;
        }

        ReadOnlySpan<byte> payload = l3.Slice(Ipv6HeaderLength, payloadLength);
        byte proto = l3[6];
        var walk = Ipv6Extensions.Walk(payload, ref proto, out int extLength);
        if (walk != ConntrackCounter.None)
        {
            return walk;
        }

        ref var key = ref input.Key;
        key.IsIpv6 = true;
        key.Src = BinaryPrimitives.ReadUInt128BigEndian(l3[8..]);
        key.Dst = BinaryPrimitives.ReadUInt128BigEndian(l3[24..]);
        key.Protocol = proto;

        ReadOnlySpan<byte> l4 = payload[extLength..];
        ulong pseudo = Checksum.PseudoHeaderV6(key.Src, key.Dst, proto, l4.Length);
        return ParseL4(l4, pseudo, ref input);
    }

    /// <summary>OVS extract_l4 for the packet's own L4 (checked, and ICMP errors allowed).</summary>
    private static ConntrackCounter ParseL4(ReadOnlySpan<byte> l4, ulong pseudoHeader, ref ConntrackInput input)
    {
        ref var key = ref input.Key;
        switch (key.Protocol)
        {
            case IpProtocols.Tcp:
                return ParseTcp(l4, pseudoHeader, ref input);
            case IpProtocols.Udp:
                return ParseUdp(l4, pseudoHeader, ref input);
            case IpProtocols.Icmp when !key.IsIpv6:
                if (Checksum.Fold(Checksum.Accumulate(0, l4)) != 0xFFFF)
                {
                    return ConntrackCounter.L4Checksum;
                }

                return IcmpKeys.ParseIcmpv4(l4, ref input);
            case IpProtocols.Icmpv6 when key.IsIpv6:
                if (Checksum.Fold(Checksum.Accumulate(pseudoHeader, l4)) != 0xFFFF)
                {
                    return ConntrackCounter.L4Checksum;
                }

                return IcmpKeys.ParseIcmpv6(l4, ref input);
            default:
                // Other protocols have no L4 key: addresses and protocol only.
                input.PayloadLength = (uint)l4.Length;
                return ConntrackCounter.None;
        }
    }

    private static ConntrackCounter ParseTcp(ReadOnlySpan<byte> tcp, ulong pseudoHeader, ref ConntrackInput input)
    {
        if (tcp.Length < TcpHeaderMin)
        {
            return ConntrackCounter.TruncatedL4;
        }

        int headerLength = (tcp[12] >> 4) * 4;
        if (headerLength < TcpHeaderMin || headerLength > tcp.Length)
        {
            return ConntrackCounter.BadTcpHeader;
        }

        if (Checksum.Fold(Checksum.Accumulate(pseudoHeader, tcp)) != 0xFFFF)
        {
            return ConntrackCounter.L4Checksum;
        }

        ref var key = ref input.Key;
        key.SrcPort = BinaryPrimitives.ReadUInt16BigEndian(tcp);
        key.DstPort = BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]);
        if (key.SrcPort == 0 || key.DstPort == 0)
        {
            return ConntrackCounter.PortZero;
        }

        input.TcpSeq = BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]);
        input.TcpAck = BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]);
        input.TcpFlags = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(tcp[12..]) & 0x0FFF);
        input.TcpWindow = BinaryPrimitives.ReadUInt16BigEndian(tcp[14..]);
        input.PayloadLength = (uint)(tcp.Length - headerLength);
        if ((input.TcpFlags & TcpSyn) != 0)
        {
            input.TcpWindowScale = WindowScale(tcp[TcpHeaderMin..headerLength]);
        }

        return ConntrackCounter.None;
    }

    /// <summary>OVS tcp_get_wscale: the window-scale option, flagged, or 0 when absent.</summary>
    private static byte WindowScale(ReadOnlySpan<byte> options)
    {
        byte wscale = 0;
        int i = 0;
        while (options.Length - i >= 3)
        {
            byte kind = options[i];
            if (kind == TcpOptEol)
            {
                break;
            }

            if (kind == TcpOptNop)
            {
                i++;
                continue;
            }

            if (kind == TcpOptWindow)
            {
                wscale = (byte)(Math.Min(options[i + 2], MaxWindowScale) | WindowScaleFlag);
            }

            i += Math.Max((int)options[i + 1], 2);
        }

        return wscale;
    }

    private static ConntrackCounter ParseUdp(ReadOnlySpan<byte> udp, ulong pseudoHeader, ref ConntrackInput input)
    {
        if (udp.Length < UdpHeaderLength)
        {
            return ConntrackCounter.TruncatedL4;
        }

        int udpLength = BinaryPrimitives.ReadUInt16BigEndian(udp[4..]);
        if (udpLength < UdpHeaderLength || udpLength > udp.Length)
        {
            return ConntrackCounter.BadUdpLength;
        }

        ref var key = ref input.Key;

        // A zero UDP checksum over IPv4 means "none" (RFC 768); IPv6 requires one (RFC 8200 8.1).
        bool noChecksum = !key.IsIpv6 && BinaryPrimitives.ReadUInt16BigEndian(udp[6..]) == 0;
        if (!noChecksum && Checksum.Fold(Checksum.Accumulate(pseudoHeader, udp)) != 0xFFFF)
        {
            return ConntrackCounter.L4Checksum;
        }

        key.SrcPort = BinaryPrimitives.ReadUInt16BigEndian(udp);
        key.DstPort = BinaryPrimitives.ReadUInt16BigEndian(udp[2..]);
        input.PayloadLength = (uint)(udp.Length - UdpHeaderLength);
        return key.SrcPort == 0 || key.DstPort == 0 ? ConntrackCounter.PortZero : ConntrackCounter.None;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsIpv4Fragment(ReadOnlySpan<byte> l3) =>
        (BinaryPrimitives.ReadUInt16BigEndian(l3[6..]) & 0x3FFF) != 0;

    /// <summary>
    /// The quoted datagram's ports (OVS extract_l4 with related == NULL): TCP and UDP need
    /// <paramref name="minimum"/> bytes and non-zero ports; ICMP echo-style types are keyed; other
    /// ICMP types fail; other protocols have no ports.
    /// </summary>
    internal static ConntrackCounter ParseQuotedL4(ReadOnlySpan<byte> l4, int tcpMinimum, ref ConntrackKey key)
    {
        switch (key.Protocol)
        {
            case IpProtocols.Tcp:
            case IpProtocols.Udp:
                int minimum = key.Protocol == IpProtocols.Tcp ? tcpMinimum : Math.Min(tcpMinimum, UdpHeaderLength);
                if (l4.Length < minimum)
                {
                    return ConntrackCounter.BadIcmpError;
                }

                key.SrcPort = BinaryPrimitives.ReadUInt16BigEndian(l4);
                key.DstPort = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
                return key.SrcPort == 0 || key.DstPort == 0 ? ConntrackCounter.BadIcmpError : ConntrackCounter.None;
            case IpProtocols.Icmp when !key.IsIpv6:
                return l4.Length < IcmpHeaderLength || !IcmpKeys.TryKeyEcho(l4, isIpv6: false, ref key)
                    ? ConntrackCounter.BadIcmpError
                    : ConntrackCounter.None;
            case IpProtocols.Icmpv6 when key.IsIpv6:
                return l4.Length < IcmpHeaderLength || !IcmpKeys.TryKeyEcho(l4, isIpv6: true, ref key)
                    ? ConntrackCounter.BadIcmpError
                    : ConntrackCounter.None;
            default:
                return ConntrackCounter.None;
        }
    }

    internal const int IcmpErrorQuotedL4 = IcmpErrorL4Length;
    internal const int TcpHeaderMinimum = TcpHeaderMin;
}
