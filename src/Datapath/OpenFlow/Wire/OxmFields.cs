using Datapath.OpenFlow.Syntax;

namespace Datapath.OpenFlow.Wire;

/// <summary>The NXM and OXM fields this switch decodes, and the ones it names when it refuses them.</summary>
internal static class OxmFields
{
    private static readonly Dictionary<uint, OxmField> ByKey = [];

    // NXM_OF_* (class 0): OpenFlow 1.0's fields.
    public static readonly OxmField NxmInPort = Add(OxmField.NxmOf, 0, 2, "NXM_OF_IN_PORT", OfFields.InPort, OxmMapping.InPort16, false);
    public static readonly OxmField NxmEthDst = Add(OxmField.NxmOf, 1, 6, "NXM_OF_ETH_DST", OfFields.EthDst);
    public static readonly OxmField NxmEthSrc = Add(OxmField.NxmOf, 2, 6, "NXM_OF_ETH_SRC", OfFields.EthSrc);
    public static readonly OxmField NxmEthType = Add(OxmField.NxmOf, 3, 2, "NXM_OF_ETH_TYPE", OfFields.EthType, maskable: false);
    public static readonly OxmField NxmVlanTci = Add(OxmField.NxmOf, 4, 2, "NXM_OF_VLAN_TCI", OfFields.VlanTci);
    public static readonly OxmField NxmIpTos = Add(OxmField.NxmOf, 5, 1, "NXM_OF_IP_TOS", OfFields.NwTos, maskable: false);
    public static readonly OxmField NxmIpProto = Add(OxmField.NxmOf, 6, 1, "NXM_OF_IP_PROTO", OfFields.NwProto, maskable: false);
    public static readonly OxmField NxmIpSrc = Add(OxmField.NxmOf, 7, 4, "NXM_OF_IP_SRC", OfFields.Ipv4Src);
    public static readonly OxmField NxmIpDst = Add(OxmField.NxmOf, 8, 4, "NXM_OF_IP_DST", OfFields.Ipv4Dst);
    public static readonly OxmField NxmTcpSrc = Add(OxmField.NxmOf, 9, 2, "NXM_OF_TCP_SRC", OfFields.TcpSrc);
    public static readonly OxmField NxmTcpDst = Add(OxmField.NxmOf, 10, 2, "NXM_OF_TCP_DST", OfFields.TcpDst);
    public static readonly OxmField NxmUdpSrc = Add(OxmField.NxmOf, 11, 2, "NXM_OF_UDP_SRC", OfFields.UdpSrc);
    public static readonly OxmField NxmUdpDst = Add(OxmField.NxmOf, 12, 2, "NXM_OF_UDP_DST", OfFields.UdpDst);
    public static readonly OxmField NxmIcmpType = Add(OxmField.NxmOf, 13, 1, "NXM_OF_ICMP_TYPE", OfFields.IcmpType, maskable: false);
    public static readonly OxmField NxmIcmpCode = Add(OxmField.NxmOf, 14, 1, "NXM_OF_ICMP_CODE", OfFields.IcmpCode, maskable: false);
    public static readonly OxmField NxmArpOp = Add(OxmField.NxmOf, 15, 2, "NXM_OF_ARP_OP", OfFields.ArpOp, maskable: false);
    public static readonly OxmField NxmArpSpa = Add(OxmField.NxmOf, 16, 4, "NXM_OF_ARP_SPA", OfFields.ArpSpa);
    public static readonly OxmField NxmArpTpa = Add(OxmField.NxmOf, 17, 4, "NXM_OF_ARP_TPA", OfFields.ArpTpa);

    // NXM_NX_* (class 1): Open vSwitch's extensions.
    public static readonly OxmField[] NxmRegs = MakeRegisters();
    public static readonly OxmField NxmArpSha = Add(OxmField.NxmNx, 17, 6, "NXM_NX_ARP_SHA", OfFields.ArpSha);
    public static readonly OxmField NxmArpTha = Add(OxmField.NxmNx, 18, 6, "NXM_NX_ARP_THA", OfFields.ArpTha);
    public static readonly OxmField NxmIpv6Src = Add(OxmField.NxmNx, 19, 16, "NXM_NX_IPV6_SRC", OfFields.Ipv6Src);
    public static readonly OxmField NxmIpv6Dst = Add(OxmField.NxmNx, 20, 16, "NXM_NX_IPV6_DST", OfFields.Ipv6Dst);
    public static readonly OxmField NxmIcmpv6Type = Add(OxmField.NxmNx, 21, 1, "NXM_NX_ICMPV6_TYPE", OfFields.IcmpType, maskable: false);
    public static readonly OxmField NxmIcmpv6Code = Add(OxmField.NxmNx, 22, 1, "NXM_NX_ICMPV6_CODE", OfFields.IcmpCode, maskable: false);
    public static readonly OxmField NxmNdTarget = Add(OxmField.NxmNx, 23, 16, "NXM_NX_ND_TARGET", OfFields.NdTarget);
    public static readonly OxmField NxmNdSll = Add(OxmField.NxmNx, 24, 6, "NXM_NX_ND_SLL", OfFields.NdSll);
    public static readonly OxmField NxmNdTll = Add(OxmField.NxmNx, 25, 6, "NXM_NX_ND_TLL", OfFields.NdTll);
    public static readonly OxmField NxmIpFrag = Add(OxmField.NxmNx, 26, 1, "NXM_NX_IP_FRAG", OfFields.NwFrag);
    public static readonly OxmField NxmIpv6Label = Add(OxmField.NxmNx, 27, 4, "NXM_NX_IPV6_LABEL", OfFields.Ipv6Label);
    public static readonly OxmField NxmIpEcn = Add(OxmField.NxmNx, 28, 1, "NXM_NX_IP_ECN", OfFields.NwEcn, maskable: false);
    public static readonly OxmField NxmIpTtl = Add(OxmField.NxmNx, 29, 1, "NXM_NX_IP_TTL", OfFields.NwTtl, maskable: false);
    public static readonly OxmField NxmCookie = Add(OxmField.NxmNx, 30, 8, "NXM_NX_COOKIE", null, OxmMapping.Cookie, true);
    public static readonly OxmField NxmTcpFlags = Add(OxmField.NxmNx, 34, 2, "NXM_NX_TCP_FLAGS", OfFields.TcpFlags);
    public static readonly OxmField NxmCtState = Add(OxmField.NxmNx, 105, 4, "NXM_NX_CT_STATE", OfFields.CtState);
    public static readonly OxmField NxmCtZone = Add(OxmField.NxmNx, 106, 2, "NXM_NX_CT_ZONE", OfFields.CtZone, maskable: false);
    public static readonly OxmField NxmCtMark = Add(OxmField.NxmNx, 107, 4, "NXM_NX_CT_MARK", OfFields.CtMark);
    public static readonly OxmField NxmCtLabel = Add(OxmField.NxmNx, 108, 16, "NXM_NX_CT_LABEL", OfFields.CtLabel);
    public static readonly OxmField NxmCtNwProto = Add(OxmField.NxmNx, 119, 1, "NXM_NX_CT_NW_PROTO", OfFields.CtNwProto, maskable: false);
    public static readonly OxmField NxmCtNwSrc = Add(OxmField.NxmNx, 120, 4, "NXM_NX_CT_NW_SRC", OfFields.CtNwSrc);
    public static readonly OxmField NxmCtNwDst = Add(OxmField.NxmNx, 121, 4, "NXM_NX_CT_NW_DST", OfFields.CtNwDst);
    public static readonly OxmField NxmCtIpv6Src = Add(OxmField.NxmNx, 122, 16, "NXM_NX_CT_IPV6_SRC", OfFields.CtIpv6Src);
    public static readonly OxmField NxmCtIpv6Dst = Add(OxmField.NxmNx, 123, 16, "NXM_NX_CT_IPV6_DST", OfFields.CtIpv6Dst);
    public static readonly OxmField NxmCtTpSrc = Add(OxmField.NxmNx, 124, 2, "NXM_NX_CT_TP_SRC", OfFields.CtTpSrc);
    public static readonly OxmField NxmCtTpDst = Add(OxmField.NxmNx, 125, 2, "NXM_NX_CT_TP_DST", OfFields.CtTpDst);

    // OXM_OF_* (class 0x8000): OpenFlow 1.2+.
    public static readonly OxmField OxmInPort = Add(OxmField.OxmBasic, 0, 4, "OXM_OF_IN_PORT", OfFields.InPort, maskable: false);
    public static readonly OxmField OxmMetadata = Add(OxmField.OxmBasic, 2, 8, "OXM_OF_METADATA", OfFields.Metadata);
    public static readonly OxmField OxmEthDst = Add(OxmField.OxmBasic, 3, 6, "OXM_OF_ETH_DST", OfFields.EthDst);
    public static readonly OxmField OxmEthSrc = Add(OxmField.OxmBasic, 4, 6, "OXM_OF_ETH_SRC", OfFields.EthSrc);
    public static readonly OxmField OxmEthType = Add(OxmField.OxmBasic, 5, 2, "OXM_OF_ETH_TYPE", OfFields.EthType, maskable: false);
    public static readonly OxmField OxmVlanVid = Add(OxmField.OxmBasic, 6, 2, "OXM_OF_VLAN_VID", OfFields.VlanTci, OxmMapping.VlanVid, true);
    public static readonly OxmField OxmVlanPcp = Add(OxmField.OxmBasic, 7, 1, "OXM_OF_VLAN_PCP", OfFields.VlanTci, OxmMapping.VlanPcp, false);
    public static readonly OxmField OxmIpDscp = Add(OxmField.OxmBasic, 8, 1, "OXM_OF_IP_DSCP", OfFields.IpDscp, maskable: false);
    public static readonly OxmField[] OxmPacketRegs = MakePacketRegisters();
    public static readonly OxmField[] NxmWideRegs =
    [
        Add(OxmField.NxmNx, 111, 16, "NXM_NX_XXREG0", OfFields.WideRegisters[0]),
        Add(OxmField.NxmNx, 112, 16, "NXM_NX_XXREG1", OfFields.WideRegisters[1]),
    ];
    public static readonly OxmField OxmIpEcn = Add(OxmField.OxmBasic, 9, 1, "OXM_OF_IP_ECN", OfFields.NwEcn, maskable: false);
    public static readonly OxmField OxmIpProto = Add(OxmField.OxmBasic, 10, 1, "OXM_OF_IP_PROTO", OfFields.NwProto, maskable: false);
    public static readonly OxmField OxmIpv4Src = Add(OxmField.OxmBasic, 11, 4, "OXM_OF_IPV4_SRC", OfFields.Ipv4Src);
    public static readonly OxmField OxmIpv4Dst = Add(OxmField.OxmBasic, 12, 4, "OXM_OF_IPV4_DST", OfFields.Ipv4Dst);
    public static readonly OxmField OxmTcpSrc = Add(OxmField.OxmBasic, 13, 2, "OXM_OF_TCP_SRC", OfFields.TcpSrc);
    public static readonly OxmField OxmTcpDst = Add(OxmField.OxmBasic, 14, 2, "OXM_OF_TCP_DST", OfFields.TcpDst);
    public static readonly OxmField OxmUdpSrc = Add(OxmField.OxmBasic, 15, 2, "OXM_OF_UDP_SRC", OfFields.UdpSrc);
    public static readonly OxmField OxmUdpDst = Add(OxmField.OxmBasic, 16, 2, "OXM_OF_UDP_DST", OfFields.UdpDst);
    public static readonly OxmField OxmSctpSrc = Add(OxmField.OxmBasic, 17, 2, "OXM_OF_SCTP_SRC", OfFields.SctpSrc);
    public static readonly OxmField OxmSctpDst = Add(OxmField.OxmBasic, 18, 2, "OXM_OF_SCTP_DST", OfFields.SctpDst);
    public static readonly OxmField OxmIcmpv4Type = Add(OxmField.OxmBasic, 19, 1, "OXM_OF_ICMPV4_TYPE", OfFields.IcmpType, maskable: false);
    public static readonly OxmField OxmIcmpv4Code = Add(OxmField.OxmBasic, 20, 1, "OXM_OF_ICMPV4_CODE", OfFields.IcmpCode, maskable: false);
    public static readonly OxmField OxmArpOp = Add(OxmField.OxmBasic, 21, 2, "OXM_OF_ARP_OP", OfFields.ArpOp, maskable: false);
    public static readonly OxmField OxmArpSpa = Add(OxmField.OxmBasic, 22, 4, "OXM_OF_ARP_SPA", OfFields.ArpSpa);
    public static readonly OxmField OxmArpTpa = Add(OxmField.OxmBasic, 23, 4, "OXM_OF_ARP_TPA", OfFields.ArpTpa);
    public static readonly OxmField OxmArpSha = Add(OxmField.OxmBasic, 24, 6, "OXM_OF_ARP_SHA", OfFields.ArpSha);
    public static readonly OxmField OxmArpTha = Add(OxmField.OxmBasic, 25, 6, "OXM_OF_ARP_THA", OfFields.ArpTha);
    public static readonly OxmField OxmIpv6Src = Add(OxmField.OxmBasic, 26, 16, "OXM_OF_IPV6_SRC", OfFields.Ipv6Src);
    public static readonly OxmField OxmIpv6Dst = Add(OxmField.OxmBasic, 27, 16, "OXM_OF_IPV6_DST", OfFields.Ipv6Dst);
    public static readonly OxmField OxmIpv6Flabel = Add(OxmField.OxmBasic, 28, 4, "OXM_OF_IPV6_FLABEL", OfFields.Ipv6Label);
    public static readonly OxmField OxmIcmpv6Type = Add(OxmField.OxmBasic, 29, 1, "OXM_OF_ICMPV6_TYPE", OfFields.IcmpType, maskable: false);
    public static readonly OxmField OxmIcmpv6Code = Add(OxmField.OxmBasic, 30, 1, "OXM_OF_ICMPV6_CODE", OfFields.IcmpCode, maskable: false);
    public static readonly OxmField OxmNdTarget = Add(OxmField.OxmBasic, 31, 16, "OXM_OF_IPV6_ND_TARGET", OfFields.NdTarget);
    public static readonly OxmField OxmNdSll = Add(OxmField.OxmBasic, 32, 6, "OXM_OF_IPV6_ND_SLL", OfFields.NdSll);
    public static readonly OxmField OxmNdTll = Add(OxmField.OxmBasic, 33, 6, "OXM_OF_IPV6_ND_TLL", OfFields.NdTll);
    public static readonly OxmField OxmTcpFlags = Add(OxmField.OxmBasic, 42, 2, "OXM_OF_TCP_FLAGS", OfFields.TcpFlags);

    static OxmFields()
    {
        // Fields Open vSwitch has and this switch does not: refused with their name, never ignored.
        Unsupported(OxmField.NxmNx, 16, 8, "tun_id (NXM_NX_TUN_ID)");
        for (byte r = 8; r < 16; r++)
        {
            Unsupported(OxmField.NxmNx, r, 4, $"reg{r} (this switch has reg0..reg7)");
        }

        Unsupported(OxmField.NxmNx, 113, 16, "xxreg2 (this switch has reg0..reg7)");
        Unsupported(OxmField.NxmNx, 114, 16, "xxreg3 (this switch has reg0..reg7)");
        for (byte r = 4; r < 8; r++)
        {
            Unsupported(OxmField.OxmPacketRegs, r, 8, $"xreg{r} (this switch has reg0..reg7)");
        }

        Unsupported(OxmField.NxmNx, 31, 4, "tun_src (NXM_NX_TUN_IPV4_SRC)");
        Unsupported(OxmField.NxmNx, 32, 4, "tun_dst (NXM_NX_TUN_IPV4_DST)");
        Unsupported(OxmField.NxmNx, 33, 4, "pkt_mark (NXM_NX_PKT_MARK)");
        Unsupported(OxmField.NxmNx, 35, 4, "dp_hash (NXM_NX_DP_HASH)");
        Unsupported(OxmField.NxmNx, 36, 4, "recirc_id (NXM_NX_RECIRC_ID)");
        Unsupported(OxmField.NxmNx, 37, 4, "conj_id (NXM_NX_CONJ_ID: no conjunctive matches here)");
        Unsupported(OxmField.OxmBasic, 1, 4, "in_phy_port (OXM_OF_IN_PHY_PORT)");
        Unsupported(OxmField.OxmBasic, 34, 4, "mpls_label (OXM_OF_MPLS_LABEL)");
        Unsupported(OxmField.OxmBasic, 35, 1, "mpls_tc (OXM_OF_MPLS_TC)");
        Unsupported(OxmField.OxmBasic, 36, 1, "mpls_bos (OXM_OF_MPLS_BOS)");
        Unsupported(OxmField.OxmBasic, 37, 3, "pbb_isid (OXM_OF_PBB_ISID)");
        Unsupported(OxmField.OxmBasic, 38, 8, "tunnel_id (OXM_OF_TUNNEL_ID)");
        Unsupported(OxmField.OxmBasic, 39, 2, "ipv6_exthdr (OXM_OF_IPV6_EXTHDR)");
        Unsupported(OxmField.OxmBasic, 43, 4, "actset_output (OXM_OF_ACTSET_OUTPUT)");
        Unsupported(OxmField.OxmBasic, 44, 4, "packet_type (OXM_OF_PACKET_TYPE)");
    }

    /// <summary>The field with this header's class and number, or null.</summary>
    public static OxmField? Find(uint header) => ByKey.GetValueOrDefault(header & 0xfffffe00u);

    /// <summary>The NXM (class 0/1) or OXM field writing <paramref name="field"/>, for set_field and reg_load destinations.</summary>
    public static OxmField? ForField(OfField field, bool oxm)
    {
        OxmField? nxm = null;
        OxmField? basic = null;
        foreach (var f in ByKey.Values)
        {
            if (!ReferenceEquals(f.Field, field) || f.Mapping != OxmMapping.Plain)
            {
                continue;
            }

            if (f.Class == OxmField.OxmBasic)
            {
                basic ??= f;
            }
            else if (field.NxmName is null || f.Name == field.NxmName)
            {
                nxm ??= f;
            }
        }

        return oxm ? basic ?? nxm : nxm ?? basic;
    }

    private static OxmField[] MakeRegisters()
    {
        var regs = new OxmField[OfRegisters.Count];
        for (int i = 0; i < regs.Length; i++)
        {
            regs[i] = Add(OxmField.NxmNx, (byte)i, 4, "NXM_NX_REG" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), OfFields.Registers[i]);
        }

        return regs;
    }

    private static OxmField[] MakePacketRegisters()
    {
        var xregs = new OxmField[OfFields.ExtendedRegisters.Length];
        for (int i = 0; i < xregs.Length; i++)
        {
            xregs[i] = Add(OxmField.OxmPacketRegs, (byte)i, 8, "OXM_OF_PKT_REG" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), OfFields.ExtendedRegisters[i]);
        }

        return xregs;
    }

    private static void Unsupported(ushort cls, byte number, int size, string name) =>
        Add(cls, number, size, name, null, OxmMapping.Unsupported, true);

    private static OxmField Add(ushort cls, byte number, int size, string name, OfField? field, OxmMapping mapping = OxmMapping.Plain, bool maskable = true)
    {
        var f = new OxmField(cls, number, size, name, field, mapping, maskable);
        ByKey.Add(f.Key, f);
        return f;
    }
}
