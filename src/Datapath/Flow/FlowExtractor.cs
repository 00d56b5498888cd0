using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Datapath.Packets;

namespace Datapath.Flow;

/// <summary>
/// Builds a packet's flow key from its bytes and metadata: the analogue of Open vSwitch's
/// miniflow_extract (lib/flow.c). Stateless and allocation-free.
///
/// Contract: the key is overwritten completely. Parsing stops at the last valid layer exactly
/// where miniflow_extract stops, leaving deeper fields zero, and counts the stop in
/// <see cref="ExtractionStats"/>; it never throws and never reads past the frame. L3 and L4
/// offsets are -1 when absent. One deliberate difference from OVS: non-first IP fragments get
/// L4Offset -1 (OVS sets l4_ofs but parses nothing there), as <see cref="Packet.L4Offset"/> documents.
/// </summary>
public static partial class FlowExtractor
{
    private const int EthHeaderLength = 14;
    private const int VlanTagLength = 4;

    // OVS FLOW_MAX_VLAN_HEADERS: a third tag is left unparsed.
    private const int MaxVlanTags = 2;

    private const int LlcSnapLength = 8;
    private const ushort ReverseArp = 0x8035;

    /// <summary>Extracts <paramref name="packet"/>'s key and sets its L3/L4 offsets, ethertype and fragment bits.</summary>
    public static void Extract(Packet packet, ref FlowKey key, ExtractionStats stats)
    {
        Extract(packet.Data, in packet.Metadata, ref key, stats, out packet.L3Offset, out packet.L4Offset);
        packet.EthType = key.EthType;
        packet.NwFrag = key.NwFrag;
    }

    /// <summary>Extracts the key of <paramref name="frame"/> received with <paramref name="metadata"/>.</summary>
    /// <param name="l3Offset">Start of the L3 header (after VLAN tags and LLC/SNAP), or -1 when the Ethernet header is incomplete.</param>
    /// <param name="l4Offset">Start of the L4 header of an IP datagram whose L3 headers are valid, or -1.</param>
    public static void Extract(
        ReadOnlySpan<byte> frame,
        in PacketMetadata metadata,
        ref FlowKey key,
        ExtractionStats stats,
        out int l3Offset,
        out int l4Offset)
    {
        key = default;
        key.InPort = metadata.InPort;
        key.RecircId = metadata.RecircId;
        key.CtState = metadata.CtState;
        key.CtZone = metadata.CtZone;
        key.CtMark = metadata.CtMark;
        key.CtLabel = metadata.CtLabel;
        if (metadata.CtTupleProto != 0)
        {
            SetCtTuple(ref key, in metadata);
        }

        l3Offset = -1;
        l4Offset = -1;

        if (frame.Length < EthHeaderLength)
        {
            Stop(stats, MalformedReason.TruncatedEthernet);
            return;
        }

        key.EthDst = FlowKey.ReadMac(frame);
        key.EthSrc = FlowKey.ReadMac(frame[6..]);

        int offset = ParseVlans(frame, ref key, stats, out ushort ethType);
        if (ethType < EtherTypes.MinEthType)
        {
            ethType = ParseLlcSnap(frame, ref offset);
        }

        key.EthType = ethType;
        l3Offset = offset;

        switch (ethType)
        {
            case EtherTypes.Ipv4:
                l4Offset = ParseIpv4(frame, offset, ref key, stats);
                break;
            case EtherTypes.Ipv6:
                l4Offset = ParseIpv6(frame, offset, ref key, stats);
                break;
            case EtherTypes.Arp:
            case ReverseArp:
                ParseArp(frame[offset..], ref key, stats);
                break;
        }
    }

    /// <summary>
    /// The conntrack original-direction tuple (miniflow_extract pushes it with the ct fields): the
    /// IPv4 fields for an IPv4 tuple, the IPv6 ones for an IPv6 tuple.
    /// </summary>
    private static void SetCtTuple(ref FlowKey key, in PacketMetadata metadata)
    {
        if (metadata.CtTupleIpv6)
        {
            key.CtIpv6Src = metadata.CtTupleSrc;
            key.CtIpv6Dst = metadata.CtTupleDst;
        }
        else
        {
            key.CtNwSrc = (uint)metadata.CtTupleSrc;
            key.CtNwDst = (uint)metadata.CtTupleDst;
        }

        key.CtTpSrc = metadata.CtTupleSrcPort;
        key.CtTpDst = metadata.CtTupleDstPort;
        key.CtNwProto = metadata.CtTupleProto;
    }

    /// <summary>
    /// Reads up to two 802.1Q/802.1ad tags (OVS parse_vlan) and returns the offset just past the
    /// type field that ends them. A tag is taken only when its TCI and the next type field are
    /// present; otherwise, and at a third tag, the TPID itself becomes the eth_type.
    /// </summary>
    private static int ParseVlans(ReadOnlySpan<byte> frame, ref FlowKey key, ExtractionStats stats, out ushort ethType)
    {
        int offset = 12;
        ethType = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
        for (int n = 0; IsVlanTpid(ethType); n++)
        {
            if (n == MaxVlanTags)
            {
                Stop(stats, MalformedReason.TooManyVlans);
                break;
            }

            if (frame.Length - offset < VlanTagLength + 2)
            {
                Stop(stats, MalformedReason.TruncatedVlan);
                break;
            }

            ushort tci = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(frame[(offset + 2)..]) | FlowKey.VlanPresent);
            if (n == 0)
            {
                key.Vlan0Tpid = ethType;
                key.Vlan0Tci = tci;
            }
            else
            {
                key.Vlan1Tpid = ethType;
                key.Vlan1Tci = tci;
            }

            offset += VlanTagLength;
            ethType = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
        }

        return offset + 2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsVlanTpid(ushort type) => type is EtherTypes.Vlan8021Q or EtherTypes.Vlan8021AD;

    /// <summary>
    /// An 802.3 length field: eth_type is 0x05ff unless an LLC/SNAP header with the Ethernet OUI
    /// carries a real ethertype, which is then used and skipped (OVS parse_ethertype).
    /// </summary>
    private static ushort ParseLlcSnap(ReadOnlySpan<byte> frame, ref int offset)
    {
        if (frame.Length - offset < LlcSnapLength)
        {
            return EtherTypes.None;
        }

        ReadOnlySpan<byte> llc = frame.Slice(offset, LlcSnapLength);
        if (llc[0] != 0xAA || llc[1] != 0xAA || llc[2] != 0x03 || llc[3] != 0 || llc[4] != 0 || llc[5] != 0)
        {
            return EtherTypes.None;
        }

        offset += LlcSnapLength;
        ushort snapType = BinaryPrimitives.ReadUInt16BigEndian(llc[6..]);
        return snapType >= EtherTypes.MinEthType ? snapType : EtherTypes.None;
    }

    /// <summary>Counts a stop; returns -1 so that offset-returning parsers can end with it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Stop(ExtractionStats stats, MalformedReason reason)
    {
        stats.Record(reason);
        return -1;
    }
}
