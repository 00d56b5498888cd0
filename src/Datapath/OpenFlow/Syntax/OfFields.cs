using Datapath.Actions;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.OpenFlow.Syntax;

/// <summary>
/// The OpenFlow fields this product supports, by every name ovs-ofctl accepts for them
/// (Open vSwitch's mf_fields table, lib/meta-flow.xml). Immutable and shared.
/// </summary>
public static class OfFields
{
    private static readonly Dictionary<string, OfField> ByName = new(StringComparer.Ordinal);
    private static readonly Dictionary<string, OfField> ByNxm = new(StringComparer.Ordinal);

    public static readonly OfField InPort = Add(new OfField("in_port", 32, FieldSyntax.Decimal, FieldPrerequisite.None,
        static (in OfFlow f) => f.Key.InPort, static (ref OfFlow f, UInt128 v) => f.Key.InPort = (uint)v)
    { Maskable = false, NxmName = "NXM_OF_IN_PORT" }, "in_port_oxm");

    public static readonly OfField EthSrc = Add(new OfField("eth_src", 48, FieldSyntax.Mac, FieldPrerequisite.None,
        static (in OfFlow f) => f.Key.EthSrc, static (ref OfFlow f, UInt128 v) => f.Key.EthSrc = (ulong)v)
    { Writable = true, NxmName = "NXM_OF_ETH_SRC", DatapathTarget = SetFieldTarget.EthSrc }, "dl_src");

    public static readonly OfField EthDst = Add(new OfField("eth_dst", 48, FieldSyntax.Mac, FieldPrerequisite.None,
        static (in OfFlow f) => f.Key.EthDst, static (ref OfFlow f, UInt128 v) => f.Key.EthDst = (ulong)v)
    { Writable = true, NxmName = "NXM_OF_ETH_DST", DatapathTarget = SetFieldTarget.EthDst }, "dl_dst");

    public static readonly OfField EthType = Add(new OfField("eth_type", 16, FieldSyntax.Hexadecimal, FieldPrerequisite.None,
        static (in OfFlow f) => f.Key.EthType, static (ref OfFlow f, UInt128 v) => f.Key.EthType = (ushort)v)
    { Maskable = false, NxmName = "NXM_OF_ETH_TYPE" }, "dl_type");

    public static readonly OfField VlanTci = Add(new OfField("vlan_tci", 16, FieldSyntax.Hexadecimal, FieldPrerequisite.None,
        static (in OfFlow f) => f.Key.Vlan0Tci, static (ref OfFlow f, UInt128 v) => f.Key.Vlan0Tci = (ushort)v)
    { NxmName = "NXM_OF_VLAN_TCI" });

    public static readonly OfField Ipv4Src = Add(new OfField("ip_src", 32, FieldSyntax.Ipv4, FieldPrerequisite.Ipv4,
        static (in OfFlow f) => f.Key.NwSrc, static (ref OfFlow f, UInt128 v) => f.Key.NwSrc = (uint)v)
    { Writable = true, NxmName = "NXM_OF_IP_SRC", DatapathTarget = SetFieldTarget.Ipv4Src }, "nw_src");

    public static readonly OfField Ipv4Dst = Add(new OfField("ip_dst", 32, FieldSyntax.Ipv4, FieldPrerequisite.Ipv4,
        static (in OfFlow f) => f.Key.NwDst, static (ref OfFlow f, UInt128 v) => f.Key.NwDst = (uint)v)
    { Writable = true, NxmName = "NXM_OF_IP_DST", DatapathTarget = SetFieldTarget.Ipv4Dst }, "nw_dst");

    public static readonly OfField Ipv6Src = Add(new OfField("ipv6_src", 128, FieldSyntax.Ipv6, FieldPrerequisite.Ipv6,
        static (in OfFlow f) => f.Key.Ipv6Src, static (ref OfFlow f, UInt128 v) => f.Key.Ipv6Src = v)
    { Writable = true, NxmName = "NXM_NX_IPV6_SRC", DatapathTarget = SetFieldTarget.Ipv6Src });

    public static readonly OfField Ipv6Dst = Add(new OfField("ipv6_dst", 128, FieldSyntax.Ipv6, FieldPrerequisite.Ipv6,
        static (in OfFlow f) => f.Key.Ipv6Dst, static (ref OfFlow f, UInt128 v) => f.Key.Ipv6Dst = v)
    { Writable = true, NxmName = "NXM_NX_IPV6_DST", DatapathTarget = SetFieldTarget.Ipv6Dst });

    public static readonly OfField Ipv6Label = Add(new OfField("ipv6_label", 20, FieldSyntax.Hexadecimal, FieldPrerequisite.Ipv6,
        static (in OfFlow f) => f.Key.Ipv6Label, static (ref OfFlow f, UInt128 v) => f.Key.Ipv6Label = (uint)v)
    { NxmName = "NXM_NX_IPV6_LABEL" });

    public static readonly OfField NwProto = Add(new OfField("nw_proto", 8, FieldSyntax.Decimal, FieldPrerequisite.IpAny,
        static (in OfFlow f) => f.Key.NwProto, static (ref OfFlow f, UInt128 v) => f.Key.NwProto = (byte)v)
    { Maskable = false, NxmName = "NXM_OF_IP_PROTO" }, "ip_proto");

    /// <summary>The DSCP bits of the TOS byte, written as the byte (ovs-ofctl's nw_tos).</summary>
    public static readonly OfField NwTos = Add(new OfField("nw_tos", 8, FieldSyntax.Decimal, FieldPrerequisite.IpAny,
        static (in OfFlow f) => (byte)(f.Key.NwTos & 0xfc), static (ref OfFlow f, UInt128 v) => f.Key.NwTos = (byte)((f.Key.NwTos & 0x03) | ((byte)v & 0xfc)))
    { Maskable = false, Writable = true, NxmName = "NXM_OF_IP_TOS", DatapathTarget = SetFieldTarget.NwTos });

    /// <summary>ip_dscp: the same bits as nw_tos, as the 6-bit DSCP value (OXM's IP_DSCP).</summary>
    public static readonly OfField IpDscp = Add(new OfField("ip_dscp", 6, FieldSyntax.Decimal, FieldPrerequisite.IpAny,
        static (in OfFlow f) => (byte)(f.Key.NwTos >> 2), static (ref OfFlow f, UInt128 v) => f.Key.NwTos = (byte)((f.Key.NwTos & 0x03) | (((byte)v & 0x3f) << 2)))
    { Maskable = false, Writable = true, NxmName = "OXM_OF_IP_DSCP", DatapathTarget = SetFieldTarget.NwTos });

    /// <summary>vlan_vid: the TCI's VID with the present bit (0x1000), as OXM's VLAN_VID.</summary>
    public static readonly OfField VlanVid = Add(new OfField("vlan_vid", 13, FieldSyntax.Decimal, FieldPrerequisite.None,
        static (in OfFlow f) => (ushort)(f.Key.Vlan0Tci & 0x1fff), static (ref OfFlow f, UInt128 v) => f.Key.Vlan0Tci = (ushort)((f.Key.Vlan0Tci & 0xe000) | ((ushort)v & 0x1fff)))
    { NxmName = "OXM_OF_VLAN_VID" });

    /// <summary>vlan_pcp: the TCI's priority (OXM's VLAN_PCP).</summary>
    public static readonly OfField VlanPcp = Add(new OfField("vlan_pcp", 3, FieldSyntax.Decimal, FieldPrerequisite.None,
        static (in OfFlow f) => (byte)(f.Key.Vlan0Tci >> 13), static (ref OfFlow f, UInt128 v) => f.Key.Vlan0Tci = (ushort)((f.Key.Vlan0Tci & 0x1fff) | (((ushort)v & 7) << 13)))
    { Maskable = false, NxmName = "OXM_OF_VLAN_PCP" });

    public static readonly OfField NwEcn = Add(new OfField("nw_ecn", 2, FieldSyntax.Decimal, FieldPrerequisite.IpAny,
        static (in OfFlow f) => (byte)(f.Key.NwTos & 0x03), static (ref OfFlow f, UInt128 v) => f.Key.NwTos = (byte)((f.Key.NwTos & 0xfc) | ((byte)v & 0x03)))
    { Maskable = false, NxmName = "NXM_NX_IP_ECN" }, "ip_ecn");

    public static readonly OfField NwTtl = Add(new OfField("nw_ttl", 8, FieldSyntax.Decimal, FieldPrerequisite.IpAny,
        static (in OfFlow f) => f.Key.NwTtl, static (ref OfFlow f, UInt128 v) => f.Key.NwTtl = (byte)v)
    { Maskable = false, Writable = true, NxmName = "NXM_NX_IP_TTL", DatapathTarget = SetFieldTarget.NwTtl });

    public static readonly OfField NwFrag = Add(new OfField("nw_frag", 2, FieldSyntax.Frag, FieldPrerequisite.IpAny,
        static (in OfFlow f) => f.Key.NwFrag, static (ref OfFlow f, UInt128 v) => f.Key.NwFrag = (byte)v)
    { NxmName = "NXM_NX_IP_FRAG" }, "ip_frag");

    public static readonly OfField TpSrc = Add(new OfField("tp_src", 16, FieldSyntax.Decimal, FieldPrerequisite.TcpUdpSctp,
        static (in OfFlow f) => f.Key.TpSrc, static (ref OfFlow f, UInt128 v) => f.Key.TpSrc = (ushort)v)
    { Writable = true, DatapathTarget = SetFieldTarget.TpSrc });

    public static readonly OfField TpDst = Add(new OfField("tp_dst", 16, FieldSyntax.Decimal, FieldPrerequisite.TcpUdpSctp,
        static (in OfFlow f) => f.Key.TpDst, static (ref OfFlow f, UInt128 v) => f.Key.TpDst = (ushort)v)
    { Writable = true, DatapathTarget = SetFieldTarget.TpDst });

    public static readonly OfField TcpSrc = Add(Port("tcp_src", FieldPrerequisite.Tcp, src: true, "NXM_OF_TCP_SRC"));
    public static readonly OfField TcpDst = Add(Port("tcp_dst", FieldPrerequisite.Tcp, src: false, "NXM_OF_TCP_DST"));
    public static readonly OfField UdpSrc = Add(Port("udp_src", FieldPrerequisite.Udp, src: true, "NXM_OF_UDP_SRC"));
    public static readonly OfField UdpDst = Add(Port("udp_dst", FieldPrerequisite.Udp, src: false, "NXM_OF_UDP_DST"));
    public static readonly OfField SctpSrc = Add(Port("sctp_src", FieldPrerequisite.Sctp, src: true, "OXM_OF_SCTP_SRC"));
    public static readonly OfField SctpDst = Add(Port("sctp_dst", FieldPrerequisite.Sctp, src: false, "OXM_OF_SCTP_DST"));

    public static readonly OfField TcpFlags = Add(new OfField("tcp_flags", 12, FieldSyntax.TcpFlags, FieldPrerequisite.Tcp,
        static (in OfFlow f) => (ushort)(f.Key.TcpFlags & 0x0fff), static (ref OfFlow f, UInt128 v) => f.Key.TcpFlags = (ushort)((ushort)v & 0x0fff))
    { NxmName = "NXM_NX_TCP_FLAGS" });

    public static readonly OfField IcmpType = Add(new OfField("icmp_type", 8, FieldSyntax.Decimal, FieldPrerequisite.Icmp,
        static (in OfFlow f) => f.Key.TpSrc, static (ref OfFlow f, UInt128 v) => f.Key.TpSrc = (ushort)v)
    { Maskable = false, NxmName = "NXM_OF_ICMP_TYPE" }, "icmpv6_type");

    public static readonly OfField IcmpCode = Add(new OfField("icmp_code", 8, FieldSyntax.Decimal, FieldPrerequisite.Icmp,
        static (in OfFlow f) => f.Key.TpDst, static (ref OfFlow f, UInt128 v) => f.Key.TpDst = (ushort)v)
    { Maskable = false, NxmName = "NXM_OF_ICMP_CODE" }, "icmpv6_code");

    public static readonly OfField ArpSpa = Add(new OfField("arp_spa", 32, FieldSyntax.Ipv4, FieldPrerequisite.Arp,
        static (in OfFlow f) => f.Key.NwSrc, static (ref OfFlow f, UInt128 v) => f.Key.NwSrc = (uint)v)
    { NxmName = "NXM_OF_ARP_SPA" });

    public static readonly OfField ArpTpa = Add(new OfField("arp_tpa", 32, FieldSyntax.Ipv4, FieldPrerequisite.Arp,
        static (in OfFlow f) => f.Key.NwDst, static (ref OfFlow f, UInt128 v) => f.Key.NwDst = (uint)v)
    { NxmName = "NXM_OF_ARP_TPA" });

    public static readonly OfField ArpOp = Add(new OfField("arp_op", 8, FieldSyntax.Decimal, FieldPrerequisite.Arp,
        static (in OfFlow f) => f.Key.ArpOp, static (ref OfFlow f, UInt128 v) => f.Key.ArpOp = (byte)v)
    { Maskable = false, NxmName = "NXM_OF_ARP_OP" });

    public static readonly OfField ArpSha = Add(new OfField("arp_sha", 48, FieldSyntax.Mac, FieldPrerequisite.Arp,
        static (in OfFlow f) => f.Key.ArpSha, static (ref OfFlow f, UInt128 v) => f.Key.ArpSha = (ulong)v)
    { NxmName = "NXM_NX_ARP_SHA" });

    public static readonly OfField ArpTha = Add(new OfField("arp_tha", 48, FieldSyntax.Mac, FieldPrerequisite.Arp,
        static (in OfFlow f) => f.Key.ArpTha, static (ref OfFlow f, UInt128 v) => f.Key.ArpTha = (ulong)v)
    { NxmName = "NXM_NX_ARP_THA" });

    public static readonly OfField NdTarget = Add(new OfField("nd_target", 128, FieldSyntax.Ipv6, FieldPrerequisite.NeighborDiscovery,
        static (in OfFlow f) => f.Key.NdTarget, static (ref OfFlow f, UInt128 v) => f.Key.NdTarget = v)
    { NxmName = "NXM_NX_ND_TARGET" });

    public static readonly OfField NdSll = Add(new OfField("nd_sll", 48, FieldSyntax.Mac, FieldPrerequisite.NeighborSolicit,
        static (in OfFlow f) => f.Key.ArpSha, static (ref OfFlow f, UInt128 v) => f.Key.ArpSha = (ulong)v)
    { NxmName = "NXM_NX_ND_SLL" });

    public static readonly OfField NdTll = Add(new OfField("nd_tll", 48, FieldSyntax.Mac, FieldPrerequisite.NeighborAdvert,
        static (in OfFlow f) => f.Key.ArpTha, static (ref OfFlow f, UInt128 v) => f.Key.ArpTha = (ulong)v)
    { NxmName = "NXM_NX_ND_TLL" });

    public static readonly OfField CtState = Add(new OfField("ct_state", 8, FieldSyntax.CtState, FieldPrerequisite.None,
        static (in OfFlow f) => (byte)f.Key.CtState, static (ref OfFlow f, UInt128 v) => f.Key.CtState = (CtState)(byte)v)
    { NxmName = "NXM_NX_CT_STATE" });

    public static readonly OfField CtZone = Add(new OfField("ct_zone", 16, FieldSyntax.Decimal, FieldPrerequisite.None,
        static (in OfFlow f) => f.Key.CtZone, static (ref OfFlow f, UInt128 v) => f.Key.CtZone = (ushort)v)
    { Maskable = false, NxmName = "NXM_NX_CT_ZONE" });

    public static readonly OfField CtMark = Add(new OfField("ct_mark", 32, FieldSyntax.Hexadecimal, FieldPrerequisite.None,
        static (in OfFlow f) => f.Key.CtMark, static (ref OfFlow f, UInt128 v) => f.Key.CtMark = (uint)v)
    { Writable = true, ConntrackOnly = true, NxmName = "NXM_NX_CT_MARK" });

    public static readonly OfField CtLabel = Add(new OfField("ct_label", 128, FieldSyntax.Hexadecimal, FieldPrerequisite.None,
        static (in OfFlow f) => f.Key.CtLabel, static (ref OfFlow f, UInt128 v) => f.Key.CtLabel = v)
    { Writable = true, ConntrackOnly = true, NxmName = "NXM_NX_CT_LABEL" });

    public static readonly OfField CtNwProto = Add(new OfField("ct_nw_proto", 8, FieldSyntax.Decimal, FieldPrerequisite.Conntrack,
        static (in OfFlow f) => f.Key.CtNwProto, static (ref OfFlow f, UInt128 v) => f.Key.CtNwProto = (byte)v)
    { Maskable = false, NxmName = "NXM_NX_CT_NW_PROTO" });

    public static readonly OfField CtNwSrc = Add(new OfField("ct_nw_src", 32, FieldSyntax.Ipv4, FieldPrerequisite.Conntrack,
        static (in OfFlow f) => f.Key.CtNwSrc, static (ref OfFlow f, UInt128 v) => f.Key.CtNwSrc = (uint)v)
    { NxmName = "NXM_NX_CT_NW_SRC" });

    public static readonly OfField CtNwDst = Add(new OfField("ct_nw_dst", 32, FieldSyntax.Ipv4, FieldPrerequisite.Conntrack,
        static (in OfFlow f) => f.Key.CtNwDst, static (ref OfFlow f, UInt128 v) => f.Key.CtNwDst = (uint)v)
    { NxmName = "NXM_NX_CT_NW_DST" });

    public static readonly OfField CtIpv6Src = Add(new OfField("ct_ipv6_src", 128, FieldSyntax.Ipv6, FieldPrerequisite.Conntrack,
        static (in OfFlow f) => f.Key.CtIpv6Src, static (ref OfFlow f, UInt128 v) => f.Key.CtIpv6Src = v)
    { NxmName = "NXM_NX_CT_IPV6_SRC" });

    public static readonly OfField CtIpv6Dst = Add(new OfField("ct_ipv6_dst", 128, FieldSyntax.Ipv6, FieldPrerequisite.Conntrack,
        static (in OfFlow f) => f.Key.CtIpv6Dst, static (ref OfFlow f, UInt128 v) => f.Key.CtIpv6Dst = v)
    { NxmName = "NXM_NX_CT_IPV6_DST" });

    public static readonly OfField CtTpSrc = Add(new OfField("ct_tp_src", 16, FieldSyntax.Decimal, FieldPrerequisite.Conntrack,
        static (in OfFlow f) => f.Key.CtTpSrc, static (ref OfFlow f, UInt128 v) => f.Key.CtTpSrc = (ushort)v)
    { NxmName = "NXM_NX_CT_TP_SRC" });

    public static readonly OfField CtTpDst = Add(new OfField("ct_tp_dst", 16, FieldSyntax.Decimal, FieldPrerequisite.Conntrack,
        static (in OfFlow f) => f.Key.CtTpDst, static (ref OfFlow f, UInt128 v) => f.Key.CtTpDst = (ushort)v)
    { NxmName = "NXM_NX_CT_TP_DST" });

    public static readonly OfField Metadata = Add(new OfField("metadata", 64, FieldSyntax.Hexadecimal, FieldPrerequisite.None,
        static (in OfFlow f) => f.Metadata, static (ref OfFlow f, UInt128 v) => f.Metadata = (ulong)v)
    { Writable = true, TranslationOnly = true, NxmName = "OXM_OF_METADATA" });

    public static readonly OfField[] Registers = MakeRegisters();

    /// <summary>xreg0..xreg3: pairs of registers as 64 bits (xregN = reg(2N) high, reg(2N+1) low).</summary>
    public static readonly OfField[] ExtendedRegisters = MakeExtendedRegisters();

    /// <summary>xxreg0, xxreg1: four registers as 128 bits.</summary>
    public static readonly OfField[] WideRegisters = MakeWideRegisters();

    /// <summary>
    /// Fields of ovs-fields(7) this switch does not have, with the reason: a flow naming one is
    /// refused with that reason, never mistaken for a typo or silently dropped.
    /// </summary>
    public static string? WhyUnsupported(string name) => name switch
    {
        _ when name.StartsWith("tun_", StringComparison.Ordinal) || name is "tunnel_id" => "tunnel fields are not supported (this switch has no tunnel ports)",
        _ when name.StartsWith("reg", StringComparison.Ordinal) && int.TryParse(name.AsSpan(3), out int r) && r is >= 8 and <= 15 => "this switch has registers reg0..reg7",
        _ when name.StartsWith("mpls_", StringComparison.Ordinal) => "MPLS is not supported",
        "pkt_mark" => "packet marks are not supported",
        "skb_priority" => "skb_priority is not supported",
        "conj_id" => "conjunctive matches are not supported",
        "actset_output" => "action sets are not supported",
        "packet_type" => "only Ethernet packets are supported",
        "dp_hash" or "recirc_id" => $"{name} is internal to the datapath",
        "in_phy_port" => "in_phy_port is not supported",
        "ipv6_exthdr" => "ipv6_exthdr is not supported",
        "nsh_flags" or "nsh_mdtype" or "nsh_np" or "nsh_spi" or "nsh_si" or "nsh_ttl" => "NSH is not supported",
        _ => null,
    };

    /// <summary>Finds a field by any of its ovs-ofctl names (reg0, nw_src, dl_type, ...).</summary>
    public static OfField? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>Finds a field by its NXM/OXM name (NXM_NX_REG0, OXM_OF_METADATA, ...).</summary>
    public static OfField? FindNxm(string name) => ByNxm.GetValueOrDefault(name);

    private static OfField Port(string name, FieldPrerequisite prerequisite, bool src, string nxm) =>
        new(name, 16, FieldSyntax.Decimal, prerequisite,
            src ? static (in OfFlow f) => f.Key.TpSrc : static (in OfFlow f) => f.Key.TpDst,
            src ? static (ref OfFlow f, UInt128 v) => f.Key.TpSrc = (ushort)v : static (ref OfFlow f, UInt128 v) => f.Key.TpDst = (ushort)v)
        { Writable = true, NxmName = nxm, DatapathTarget = src ? SetFieldTarget.TpSrc : SetFieldTarget.TpDst };

    private static OfField[] MakeRegisters()
    {
        var regs = new OfField[OfRegisters.Count];
        for (int i = 0; i < regs.Length; i++)
        {
            int index = i;
            regs[i] = Add(new OfField("reg" + index.ToString(System.Globalization.CultureInfo.InvariantCulture), 32, FieldSyntax.Hexadecimal, FieldPrerequisite.None,
                (in OfFlow f) => f.Regs[index], (ref OfFlow f, UInt128 v) => f.Regs[index] = (uint)v)
            { Writable = true, TranslationOnly = true, NxmName = "NXM_NX_REG" + index.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }

        return regs;
    }

    private static OfField[] MakeExtendedRegisters()
    {
        var xregs = new OfField[OfRegisters.Count / 2];
        for (int i = 0; i < xregs.Length; i++)
        {
            int hi = 2 * i;
            string n = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            xregs[i] = Add(new OfField("xreg" + n, 64, FieldSyntax.Hexadecimal, FieldPrerequisite.None,
                (in OfFlow f) => ((ulong)f.Regs[hi] << 32) | f.Regs[hi + 1],
                (ref OfFlow f, UInt128 v) =>
                {
                    f.Regs[hi] = (uint)((ulong)v >> 32);
                    f.Regs[hi + 1] = (uint)(ulong)v;
                })
            { Writable = true, TranslationOnly = true, NxmName = "OXM_OF_PKT_REG" + n });
        }

        return xregs;
    }

    private static OfField[] MakeWideRegisters()
    {
        var xxregs = new OfField[OfRegisters.Count / 4];
        for (int i = 0; i < xxregs.Length; i++)
        {
            int first = 4 * i;
            string n = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            xxregs[i] = Add(new OfField("xxreg" + n, 128, FieldSyntax.Hexadecimal, FieldPrerequisite.None,
                (in OfFlow f) => ((UInt128)f.Regs[first] << 96) | ((UInt128)f.Regs[first + 1] << 64) | ((UInt128)f.Regs[first + 2] << 32) | f.Regs[first + 3],
                (ref OfFlow f, UInt128 v) =>
                {
                    f.Regs[first] = (uint)(v >> 96);
                    f.Regs[first + 1] = (uint)(v >> 64);
                    f.Regs[first + 2] = (uint)(v >> 32);
                    f.Regs[first + 3] = (uint)v;
                })
            { Writable = true, TranslationOnly = true, NxmName = "NXM_NX_XXREG" + n });
        }

        return xxregs;
    }

    private static OfField Add(OfField field, params string[] aliases)
    {
        ByName.Add(field.Name, field);
        foreach (string alias in aliases)
        {
            ByName.Add(alias, field);
        }

        if (field.NxmName is not null)
        {
            ByNxm.Add(field.NxmName, field);
        }

        return field;
    }
}
