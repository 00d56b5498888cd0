using System.Numerics;
using Datapath.Flow;
using Datapath.OpenFlow.Syntax;

namespace Datapath.OpenFlow.Wire;

/// <summary>
/// OpenFlow 1.0's fixed 40-byte ofp_match (Open vSwitch's ofputil_match_from_ofp10_match and
/// ofputil_match_to_ofp10_match): wildcard bits and fixed fields. Fields the match's Ethernet type
/// or protocol makes meaningless are dropped, as Open vSwitch normalises them.
/// </summary>
public static class Of10Match
{
    public const int Size = 40;

    private const uint InPort = 1 << 0;
    private const uint DlVlan = 1 << 1;
    private const uint DlSrc = 1 << 2;
    private const uint DlDst = 1 << 3;
    private const uint DlType = 1 << 4;
    private const uint NwProto = 1 << 5;
    private const uint TpSrc = 1 << 6;
    private const uint TpDst = 1 << 7;
    private const int NwSrcShift = 8;
    private const int NwDstShift = 14;
    private const uint DlVlanPcp = 1 << 20;
    private const uint NwTos = 1 << 21;
    private const uint All = (1 << 22) - 1;

    public static OfMatch Decode(ReadOnlySpan<byte> data)
    {
        var r = new OfpReader(data, OfpErrorKind.BadRequestLength);
        uint wc = r.U32();
        ushort inPort = r.U16();
        ulong dlSrc = FlowKey.ReadMac(r.Bytes(6));
        ulong dlDst = FlowKey.ReadMac(r.Bytes(6));
        ushort dlVlan = r.U16();
        byte pcp = r.U8();
        r.Skip(1);
        ushort dlType = r.U16();
        byte tos = r.U8();
        byte proto = r.U8();
        r.Skip(2);
        uint nwSrc = r.U32();
        uint nwDst = r.U32();
        ushort tpSrc = r.U16();
        ushort tpDst = r.U16();

        var v = default(OfFlow);
        var m = default(OfFlow);
        if ((wc & InPort) == 0)
        {
            v.Key.InPort = OfpPort.From10(inPort);
            m.Key.InPort = uint.MaxValue;
        }

        if ((wc & DlSrc) == 0)
        {
            v.Key.EthSrc = dlSrc;
            m.Key.EthSrc = 0xffff_ffff_ffffUL;
        }

        if ((wc & DlDst) == 0)
        {
            v.Key.EthDst = dlDst;
            m.Key.EthDst = 0xffff_ffff_ffffUL;
        }

        if ((wc & DlVlan) == 0)
        {
            if (dlVlan == 0xffff)
            {
                // OFP_VLAN_NONE: untagged packets only (the PCP is then meaningless).
                v.Key.Vlan0Tci = 0;
                m.Key.Vlan0Tci = 0xffff;
            }
            else
            {
                v.Key.Vlan0Tci = (ushort)((dlVlan & 0x0fff) | FlowKey.VlanPresent);
                m.Key.Vlan0Tci = 0x1fff;
                if ((wc & DlVlanPcp) == 0)
                {
                    v.Key.Vlan0Tci |= (ushort)((pcp & 7) << 13);
                    m.Key.Vlan0Tci |= 0xe000;
                }
            }
        }
        else if ((wc & DlVlanPcp) == 0)
        {
            v.Key.Vlan0Tci = (ushort)(((pcp & 7) << 13) | FlowKey.VlanPresent);
            m.Key.Vlan0Tci = 0xf000;
        }

        if ((wc & DlType) == 0)
        {
            v.Key.EthType = dlType;
            m.Key.EthType = ushort.MaxValue;
        }

        bool ip = (wc & DlType) == 0 && dlType == EtherTypes.Ipv4;
        bool arp = (wc & DlType) == 0 && dlType is EtherTypes.Arp or 0x8035;
        if (ip || arp)
        {
            if ((wc & NwProto) == 0)
            {
                v.Key.NwProto = proto;
                m.Key.NwProto = byte.MaxValue;
            }

            uint srcMask = Prefix((int)((wc >> NwSrcShift) & 0x3f));
            uint dstMask = Prefix((int)((wc >> NwDstShift) & 0x3f));
            v.Key.NwSrc = nwSrc & srcMask;
            m.Key.NwSrc = srcMask;
            v.Key.NwDst = nwDst & dstMask;
            m.Key.NwDst = dstMask;
        }

        if (ip)
        {
            if ((wc & NwTos) == 0)
            {
                v.Key.NwTos = (byte)(tos & 0xfc);
                m.Key.NwTos = 0xfc;
            }

            bool protoKnown = (wc & NwProto) == 0;
            if (protoKnown && proto is IpProtocols.Tcp or IpProtocols.Udp or IpProtocols.Sctp or IpProtocols.Icmp)
            {
                ushort portMask = proto == IpProtocols.Icmp ? ushort.MaxValue : ushort.MaxValue;
                if ((wc & TpSrc) == 0)
                {
                    v.Key.TpSrc = proto == IpProtocols.Icmp ? (ushort)(byte)tpSrc : tpSrc;
                    m.Key.TpSrc = portMask;
                }

                if ((wc & TpDst) == 0)
                {
                    v.Key.TpDst = proto == IpProtocols.Icmp ? (ushort)(byte)tpDst : tpDst;
                    m.Key.TpDst = portMask;
                }
            }
        }

        return new OfMatch(in v, in m);
    }

    /// <summary>The closest OpenFlow 1.0 match (fields it cannot hold, such as ct_state or registers, are left out: use NXM for those).</summary>
    public static void Encode(OfpWriter w, OfMatch match)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(match);
        ref readonly var v = ref match.Value;
        ref readonly var m = ref match.Mask;
        uint wc = All;
        if (m.Key.InPort != 0)
        {
            wc &= ~InPort;
        }

        if (m.Key.EthSrc != 0)
        {
            wc &= ~DlSrc;
        }

        if (m.Key.EthDst != 0)
        {
            wc &= ~DlDst;
        }

        ushort dlVlan = 0;
        byte pcp = 0;
        if (m.Key.Vlan0Tci != 0)
        {
            if ((v.Key.Vlan0Tci & FlowKey.VlanPresent) == 0 && (m.Key.Vlan0Tci & FlowKey.VlanPresent) != 0)
            {
                dlVlan = 0xffff;
                wc &= ~DlVlan;
            }
            else
            {
                if ((m.Key.Vlan0Tci & 0x0fff) != 0)
                {
                    dlVlan = (ushort)(v.Key.Vlan0Tci & 0x0fff);
                    wc &= ~DlVlan;
                }

                if ((m.Key.Vlan0Tci & 0xe000) != 0)
                {
                    pcp = (byte)(v.Key.Vlan0Tci >> 13);
                    wc &= ~DlVlanPcp;
                }
            }
        }

        if (m.Key.EthType != 0)
        {
            wc &= ~DlType;
        }

        if (m.Key.NwProto != 0)
        {
            wc &= ~NwProto;
        }

        if ((m.Key.NwTos & 0xfc) != 0)
        {
            wc &= ~NwTos;
        }

        if (m.Key.TpSrc != 0)
        {
            wc &= ~TpSrc;
        }

        if (m.Key.TpDst != 0)
        {
            wc &= ~TpDst;
        }

        wc = (wc & ~(0x3fu << NwSrcShift)) | ((uint)Math.Min(32, 32 - BitOperations.PopCount(m.Key.NwSrc)) << NwSrcShift);
        wc = (wc & ~(0x3fu << NwDstShift)) | ((uint)Math.Min(32, 32 - BitOperations.PopCount(m.Key.NwDst)) << NwDstShift);

        w.U32(wc);
        w.U16(OfpPort.To10(v.Key.InPort));
        Span<byte> mac = stackalloc byte[6];
        FlowKey.WriteMac(mac, v.Key.EthSrc);
        w.Bytes(mac);
        FlowKey.WriteMac(mac, v.Key.EthDst);
        w.Bytes(mac);
        w.U16(dlVlan);
        w.U8(pcp);
        w.U8(0);
        w.U16(v.Key.EthType);
        w.U8((byte)(v.Key.NwTos & 0xfc));
        w.U8(v.Key.NwProto);
        w.U16(0);
        w.U32(v.Key.NwSrc);
        w.U32(v.Key.NwDst);
        w.U16(v.Key.TpSrc);
        w.U16(v.Key.TpDst);
    }

    /// <summary>True when OpenFlow 1.0's match holds <paramref name="match"/> exactly (else NXM is needed).</summary>
    public static bool CanHold(OfMatch match)
    {
        ArgumentNullException.ThrowIfNull(match);
        ref readonly var m = ref match.Mask;
        var rest = m;
        rest.Key.InPort = 0;
        rest.Key.EthSrc = 0;
        rest.Key.EthDst = 0;
        rest.Key.EthType = 0;
        rest.Key.NwProto = 0;
        rest.Key.TpSrc = 0;
        rest.Key.TpDst = 0;
        bool cidr = IsPrefix(m.Key.NwSrc) && IsPrefix(m.Key.NwDst);
        bool tos = (m.Key.NwTos & 0x03) == 0;
        bool vlan = m.Key.Vlan0Tci is 0 or 0xffff or 0x1fff or 0xf000 or 0xffff;
        bool fullMacs = m.Key.EthSrc is 0 or 0xffff_ffff_ffffUL && m.Key.EthDst is 0 or 0xffff_ffff_ffffUL;
        rest.Key.NwSrc = 0;
        rest.Key.NwDst = 0;
        rest.Key.NwTos = 0;
        rest.Key.Vlan0Tci = 0;
        return cidr && tos && vlan && fullMacs && rest.Key.IsZero && rest.Metadata == 0 && AllZero(rest.Regs);
    }

    private static bool AllZero(OfRegisters regs)
    {
        for (int i = 0; i < OfRegisters.Count; i++)
        {
            if (regs[i] != 0)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsPrefix(uint mask) => mask == 0 || mask == uint.MaxValue << (32 - BitOperations.PopCount(mask));

    private static uint Prefix(int wildcardedBits) => wildcardedBits >= 32 ? 0 : uint.MaxValue << wildcardedBits;
}
