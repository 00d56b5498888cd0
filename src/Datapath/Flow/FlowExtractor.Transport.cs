using System.Buffers.Binary;

namespace Datapath.Flow;

/// <summary>L4 parsing: TCP, UDP, SCTP, ICMP, IGMP, ICMPv6 and neighbour discovery.</summary>
public static partial class FlowExtractor
{
    private const int TcpMinHeaderLength = 20;
    private const int UdpHeaderLength = 8;
    private const int SctpCommonHeaderLength = 12;
    private const int IcmpHeaderLength = 8;
    private const int NdTargetLength = 16;
    private const int NdOptionUnit = 8;
    private const byte Igmp = 2;
    private const byte NeighborSolicitation = 135;
    private const byte NeighborAdvertisement = 136;
    private const byte NdSourceLinkAddress = 1;
    private const byte NdTargetLinkAddress = 2;

    // TCP flags are the low 12 bits of the data-offset/flags word (OVS TCP_FLAGS).
    private const ushort TcpFlagsMask = 0x0FFF;

    /// <summary>Fills tp_src/tp_dst (and TCP flags, ND fields) from <paramref name="l4"/>, the datagram's payload.</summary>
    private static void ParseTransport(ReadOnlySpan<byte> l4, byte proto, ref FlowKey key, ExtractionStats stats)
    {
        switch (proto)
        {
            case IpProtocols.Tcp:
                ParseTcp(l4, ref key, stats);
                break;
            case IpProtocols.Udp:
                ParsePorts(l4, UdpHeaderLength, MalformedReason.TruncatedUdp, ref key, stats);
                break;
            case IpProtocols.Sctp:
                ParsePorts(l4, SctpCommonHeaderLength, MalformedReason.TruncatedSctp, ref key, stats);
                break;
            case IpProtocols.Icmp:
                ParseTypeCode(l4, MalformedReason.TruncatedIcmp, ref key, stats);
                break;
            case Igmp:
                ParseTypeCode(l4, MalformedReason.TruncatedIgmp, ref key, stats);
                break;
            case IpProtocols.Icmpv6:
                ParseIcmpv6(l4, ref key, stats);
                break;
        }
    }

    private static void ParseTcp(ReadOnlySpan<byte> tcp, ref FlowKey key, ExtractionStats stats)
    {
        if (tcp.Length < TcpMinHeaderLength)
        {
            Stop(stats, MalformedReason.TruncatedTcp);
            return;
        }

        key.TpSrc = BinaryPrimitives.ReadUInt16BigEndian(tcp);
        key.TpDst = BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]);
        key.TcpFlags = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(tcp[12..]) & TcpFlagsMask);

        int dataOffset = (tcp[12] >> 4) * 4;
        if (dataOffset < TcpMinHeaderLength || dataOffset > tcp.Length)
        {
            Stop(stats, MalformedReason.BadTcpOffset);
        }
    }

    private static void ParsePorts(ReadOnlySpan<byte> l4, int headerLength, MalformedReason truncated, ref FlowKey key, ExtractionStats stats)
    {
        if (l4.Length < headerLength)
        {
            Stop(stats, truncated);
            return;
        }

        key.TpSrc = BinaryPrimitives.ReadUInt16BigEndian(l4);
        key.TpDst = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
    }

    private static void ParseTypeCode(ReadOnlySpan<byte> l4, MalformedReason truncated, ref FlowKey key, ExtractionStats stats)
    {
        if (l4.Length < IcmpHeaderLength)
        {
            Stop(stats, truncated);
            return;
        }

        key.IcmpType = l4[0];
        key.IcmpCode = l4[1];
    }

    /// <summary>
    /// ICMPv6 type and code; for neighbour solicitation/advertisement with code 0 also the target
    /// and the source/target link-layer address options (OVS parse_icmpv6). A bad option length
    /// stops the walk keeping what was read; a repeated address option clears target, sll and tll.
    /// </summary>
    private static void ParseIcmpv6(ReadOnlySpan<byte> icmp, ref FlowKey key, ExtractionStats stats)
    {
        if (icmp.Length < IcmpHeaderLength)
        {
            Stop(stats, MalformedReason.TruncatedIcmpv6);
            return;
        }

        byte type = icmp[0];
        byte code = icmp[1];
        key.IcmpType = type;
        key.IcmpCode = code;
        if (code != 0 || (type != NeighborSolicitation && type != NeighborAdvertisement))
        {
            return;
        }

        ReadOnlySpan<byte> body = icmp[IcmpHeaderLength..];
        if (body.Length < NdTargetLength)
        {
            Stop(stats, MalformedReason.TruncatedNdTarget);
            return;
        }

        UInt128 target = FlowKey.ReadIpv6(body);
        ReadOnlySpan<byte> options = body[NdTargetLength..];
        ulong sll = 0;
        ulong tll = 0;

        // Trailing bytes shorter than one option unit are ignored, as in OVS.
        while (options.Length >= NdOptionUnit)
        {
            int optionLength = options[1] * NdOptionUnit;
            if (optionLength == 0 || optionLength > options.Length)
            {
                Stop(stats, MalformedReason.BadNdOptions);
                break;
            }

            if (optionLength == NdOptionUnit && options[0] is NdSourceLinkAddress or NdTargetLinkAddress)
            {
                ref ulong slot = ref options[0] == NdSourceLinkAddress ? ref sll : ref tll;
                if (slot != 0)
                {
                    Stop(stats, MalformedReason.BadNdOptions);
                    return;
                }

                slot = FlowKey.ReadMac(options[2..]);
            }

            options = options[optionLength..];
        }

        key.NdTarget = target;
        key.ArpSha = sll;
        key.ArpTha = tll;
    }
}
