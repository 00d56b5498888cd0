using System.Text;
using Datapath.Packets;

namespace Datapath.Flow;

/// <summary>
/// Writes a flow key and its mask in Open vSwitch's datapath flow syntax, as
/// <c>ovs-appctl dpctl/dump-flows</c> prints a userspace (dpif-netdev) megaflow: the attribute
/// order of odp_flow_key_from_flow() and the spelling of odp_flow_format() without --more.
/// <list type="bullet">
/// <item>Attributes whose mask is all zero are left out (recirc_id is always shown; the
/// userspace datapath always matches it exactly); inside an attribute, fields whose mask is
/// zero are left out and partially masked fields print as value/mask.</item>
/// <item>ct_state prints +flag/-flag for each masked bit in bit order (new est rel rpl inv trk snat dnat).</item>
/// <item>packet_type(ns=0,id=0) is always shown: every packet here is Ethernet, and the
/// userspace datapath always matches the packet type exactly.</item>
/// <item>Which L3/L4 attributes exist follows the key's eth_type, nw_proto and fragment bits;
/// VLAN tags nest the rest inside encap(...).</item>
/// </list>
/// Cold path (dumps, traces, tools): it allocates.
/// </summary>
public static class FlowFormatter
{
    private const ushort IcmpV6NeighborSolicit = 135;
    private const ushort IcmpV6NeighborAdvert = 136;
    private const ushort RarpEthType = 0x8035;

    /// <summary>Returns the megaflow <paramref name="key"/>/<paramref name="mask"/> in datapath flow syntax.</summary>
    /// <param name="key">The flow's key, already masked as a megaflow stores it (bits outside the mask print as given).</param>
    /// <param name="mask">1 bits are the bits the flow matches.</param>
    public static string Format(in FlowKey key, in FlowKey mask)
    {
        var sb = new StringBuilder(160);
        Format(sb, in key, in mask);
        return sb.ToString();
    }

    /// <summary>Appends the megaflow <paramref name="key"/>/<paramref name="mask"/> in datapath flow syntax.</summary>
    public static void Format(StringBuilder sb, in FlowKey key, in FlowKey mask)
    {
        ArgumentNullException.ThrowIfNull(sb);
        new Writer(sb, exact: false).Flow(in key, in mask);
    }

    /// <summary>
    /// Returns a packet's flow: every field its protocols carry (see <see cref="PresentFieldsMask"/>),
    /// printed as Open vSwitch prints an unmasked datapath key (no /mask, ct_state as "est|trk").
    /// </summary>
    public static string FormatExact(in FlowKey key)
    {
        var sb = new StringBuilder(200);
        FormatExact(sb, in key);
        return sb.ToString();
    }

    /// <summary>Appends the packet flow <paramref name="key"/>; see <see cref="FormatExact(in FlowKey)"/>.</summary>
    public static void FormatExact(StringBuilder sb, in FlowKey key)
    {
        ArgumentNullException.ThrowIfNull(sb);
        var mask = PresentFieldsMask(in key);
        new Writer(sb, exact: true).Flow(in key, in mask);
    }

    /// <summary>
    /// The mask of the fields a packet with this key actually has: metadata (conntrack fields only
    /// once the packet was tracked, each only when set, as odp_key_from_dp_packet() does), Ethernet,
    /// VLAN tags present, and the L3/L4 fields its eth_type and nw_proto make meaningful
    /// (no L4 for non-first fragments; ND fields only for neighbour solicitations and advertisements).
    /// </summary>
    public static FlowKey PresentFieldsMask(in FlowKey key)
    {
        var m = default(FlowKey);
        m.RecircId = uint.MaxValue;
        m.InPort = uint.MaxValue;
        if (key.CtState != CtState.None)
        {
            m.CtState = (CtState)0xff;
            m.CtZone = key.CtZone != 0 ? ushort.MaxValue : (ushort)0;
            m.CtMark = key.CtMark != 0 ? uint.MaxValue : 0;
            m.CtLabel = key.CtLabel != UInt128.Zero ? UInt128.MaxValue : UInt128.Zero;
            if (key.CtNwProto != 0)
            {
                m.CtNwSrc = uint.MaxValue;
                m.CtNwDst = uint.MaxValue;
                m.CtIpv6Src = UInt128.MaxValue;
                m.CtIpv6Dst = UInt128.MaxValue;
                m.CtTpSrc = ushort.MaxValue;
                m.CtTpDst = ushort.MaxValue;
                m.CtNwProto = byte.MaxValue;
            }
        }

        m.EthSrc = ulong.MaxValue;
        m.EthDst = ulong.MaxValue;
        m.EthType = ushort.MaxValue;
        if (key.Vlan0Tci != 0)
        {
            m.Vlan0Tci = ushort.MaxValue;
            m.Vlan0Tpid = ushort.MaxValue;
            if (key.Vlan1Tci != 0)
            {
                m.Vlan1Tci = ushort.MaxValue;
                m.Vlan1Tpid = ushort.MaxValue;
            }
        }

        switch (key.EthType)
        {
            case EtherTypes.Ipv4:
                m.NwSrc = uint.MaxValue;
                m.NwDst = uint.MaxValue;
                SetIpCommon(ref m);
                break;
            case EtherTypes.Ipv6:
                m.Ipv6Src = UInt128.MaxValue;
                m.Ipv6Dst = UInt128.MaxValue;
                m.Ipv6Label = 0xFFFFF;
                SetIpCommon(ref m);
                break;
            case EtherTypes.Arp:
            case RarpEthType:
                m.NwSrc = uint.MaxValue;
                m.NwDst = uint.MaxValue;
                m.ArpOp = byte.MaxValue;
                m.ArpSha = ulong.MaxValue;
                m.ArpTha = ulong.MaxValue;
                return m;
            default:
                return m;
        }

        if ((key.NwFrag & FlowKey.FragLater) != 0)
        {
            return m;
        }

        switch (key.NwProto)
        {
            case IpProtocols.Tcp:
                m.TpSrc = ushort.MaxValue;
                m.TpDst = ushort.MaxValue;
                m.TcpFlags = key.TcpFlags != 0 ? ushort.MaxValue : (ushort)0;
                break;
            case IpProtocols.Udp:
            case IpProtocols.Sctp:
                m.TpSrc = ushort.MaxValue;
                m.TpDst = ushort.MaxValue;
                break;
            case IpProtocols.Icmp when key.IsIpv4:
            case IpProtocols.Icmpv6 when key.IsIpv6:
                m.TpSrc = byte.MaxValue;
                m.TpDst = byte.MaxValue;
                if (IsNeighborDiscovery(in key))
                {
                    m.NdTarget = UInt128.MaxValue;
                    m.ArpSha = ulong.MaxValue;
                    m.ArpTha = ulong.MaxValue;
                }

                break;
        }

        return m;
    }

    private static void SetIpCommon(ref FlowKey m)
    {
        m.NwProto = byte.MaxValue;
        m.NwTos = byte.MaxValue;
        m.NwTtl = byte.MaxValue;
        m.NwFrag = FlowKey.FragAny | FlowKey.FragLater;
    }

    /// <summary>is_nd(): ICMPv6 neighbour solicitation or advertisement with code 0.</summary>
    private static bool IsNeighborDiscovery(in FlowKey key) =>
        key.IsIpv6 && key.NwProto == IpProtocols.Icmpv6 && key.TpDst == 0
        && (key.TpSrc == IcmpV6NeighborSolicit || key.TpSrc == IcmpV6NeighborAdvert);

    private static bool IsVlanEthType(ushort ethType) => ethType is EtherTypes.Vlan8021Q or EtherTypes.Vlan8021AD;

    /// <summary>
    /// One formatting pass. <c>exact</c> prints an unmasked key: the mask only says which fields
    /// exist, values never carry "/mask", and ct_state lists its set flags.
    /// </summary>
    private readonly struct Writer(StringBuilder sb, bool exact)
    {
        public void Flow(in FlowKey k, in FlowKey m)
        {
            bool first = true;
            Metadata(in k, in m, ref first);
            Begin(ref first, "packet_type").Append("ns=0,id=0)");
            Ethernet(in k, in m, ref first);
            AfterEthernet(in k, in m, ref first, vlanLevel: 0);
        }

        private void Metadata(in FlowKey k, in FlowKey m, ref bool first)
        {
            if (m.CtState != CtState.None)
            {
                Begin(ref first, "ct_state");
                if (exact)
                {
                    sb.AppendFlags((uint)k.CtState, OdpText.CtStates, '|');
                }
                else
                {
                    // The datapath attribute is 32 bits wide, so an 8-bit mask is never "exact":
                    // OVS always prints ct_state as +flag/-flag.
                    sb.AppendFlagsMasked((uint)k.CtState, (uint)m.CtState, uint.MaxValue, OdpText.CtStates);
                }

                End();
            }

            if (m.CtZone != 0)
            {
                Begin(ref first, "ct_zone").AppendHashHex(k.CtZone);
                SlashHashHex(m.CtZone, ushort.MaxValue);
                End();
            }

            if (m.CtMark != 0)
            {
                Begin(ref first, "ct_mark").AppendHashHex(k.CtMark);
                SlashHashHex(m.CtMark, uint.MaxValue);
                End();
            }

            if (m.CtLabel != UInt128.Zero)
            {
                Begin(ref first, "ct_label").AppendHex128(k.CtLabel);
                if (!exact && m.CtLabel != UInt128.MaxValue)
                {
                    sb.Append('/').AppendHex128(m.CtLabel);
                }

                End();
            }

            CtTuple(in k, in m, ref first);
            Begin(ref first, "recirc_id").AppendHashHex(k.RecircId);
            if (m.RecircId != 0)
            {
                SlashHashHex(m.RecircId, uint.MaxValue);
            }

            End();

            if (m.InPort != 0)
            {
                Begin(ref first, "in_port").AppendDecimal(k.InPort);
                SlashHashHex(m.InPort, uint.MaxValue);
                End();
            }
        }

        private void Ethernet(in FlowKey k, in FlowKey m, ref bool first)
        {
            if ((m.EthSrc | m.EthDst) == 0)
            {
                return;
            }

            Begin(ref first, "eth");
            Mac("src", k.EthSrc, m.EthSrc);
            Mac("dst", k.EthDst, m.EthDst);
            sb.ChompComma();
            End();
        }

        /// <summary>VLAN tags (each nesting the rest in encap()), then eth_type and what it carries.</summary>
        private void AfterEthernet(in FlowKey k, in FlowKey m, ref bool first, int vlanLevel)
        {
            ushort tci = vlanLevel switch { 0 => k.Vlan0Tci, 1 => k.Vlan1Tci, _ => 0 };
            if (tci != 0 || (vlanLevel < 2 && IsVlanEthType(k.EthType)))
            {
                // A truncated tag leaves its TPID in eth_type and nothing inside encap().
                ushort tpid = tci != 0 ? (vlanLevel == 0 ? k.Vlan0Tpid : k.Vlan1Tpid) : k.EthType;
                ushort tciMask = vlanLevel == 0 ? m.Vlan0Tci : m.Vlan1Tci;
                Begin(ref first, "eth_type").AppendHex4(tpid);
                End();
                if (tciMask != 0)
                {
                    Begin(ref first, "vlan");
                    VlanTci(tci, exact ? ushort.MaxValue : tciMask);
                    End();
                }

                Begin(ref first, "encap");
                if (tci != 0)
                {
                    bool innerFirst = true;
                    AfterEthernet(in k, in m, ref innerFirst, vlanLevel + 1);
                }

                End();
                return;
            }

            if (k.EthType < EtherTypes.MinEthType)
            {
                // 802.3 frame: no eth_type in the key; a masked one means "not Ethernet II".
                if (m.EthType != 0)
                {
                    Begin(ref first, "eth_type").Append("0/").AppendHex4(m.EthType);
                    End();
                }

                return;
            }

            if (m.EthType != 0)
            {
                Begin(ref first, "eth_type").AppendHex4(k.EthType);
                if (!exact && m.EthType != ushort.MaxValue)
                {
                    sb.Append('/').AppendHex4(m.EthType);
                }

                End();
            }

            switch (k.EthType)
            {
                case EtherTypes.Ipv4:
                    Ipv4(in k, in m, ref first);
                    break;
                case EtherTypes.Ipv6:
                    Ipv6(in k, in m, ref first);
                    break;
                case EtherTypes.Arp:
                case RarpEthType:
                    Arp(in k, in m, ref first);
                    return;
                default:
                    return;
            }

            if ((k.NwFrag & FlowKey.FragLater) == 0)
            {
                Transport(in k, in m, ref first);
            }
        }

        private void Ipv4(in FlowKey k, in FlowKey m, ref bool first)
        {
            byte fragMask = OdpFragMask(m.NwFrag);
            if ((m.NwSrc | m.NwDst | m.NwProto | m.NwTos | m.NwTtl | fragMask) == 0)
            {
                return;
            }

            Begin(ref first, "ipv4");
            Ipv4Field("src", k.NwSrc, m.NwSrc);
            Ipv4Field("dst", k.NwDst, m.NwDst);
            U8Decimal("proto", k.NwProto, m.NwProto);
            U8Hex("tos", k.NwTos, m.NwTos);
            U8Decimal("ttl", k.NwTtl, m.NwTtl);
            Frag(k.NwFrag, fragMask);
            sb.ChompComma();
            End();
        }

        private void Ipv6(in FlowKey k, in FlowKey m, ref bool first)
        {
            byte fragMask = OdpFragMask(m.NwFrag);
            if (m.Ipv6Src == UInt128.Zero && m.Ipv6Dst == UInt128.Zero
                && (m.Ipv6Label | m.NwProto | m.NwTos | m.NwTtl | fragMask) == 0)
            {
                return;
            }

            Begin(ref first, "ipv6");
            Ipv6Field("src", k.Ipv6Src, m.Ipv6Src);
            Ipv6Field("dst", k.Ipv6Dst, m.Ipv6Dst);
            if (m.Ipv6Label != 0)
            {
                sb.Append("label=").AppendHashHex(k.Ipv6Label);
                SlashHashHex(m.Ipv6Label, 0xFFFFF);
                sb.Append(',');
            }

            U8Decimal("proto", k.NwProto, m.NwProto);
            U8Hex("tclass", k.NwTos, m.NwTos);
            U8Decimal("hlimit", k.NwTtl, m.NwTtl);
            Frag(k.NwFrag, fragMask);
            sb.ChompComma();
            End();
        }

        private void Arp(in FlowKey k, in FlowKey m, ref bool first)
        {
            // The datapath's arp_op is 16 bits holding the flow's 8-bit opcode, so an exact
            // opcode match reads "op=1/0xff", as in Open vSwitch's own dumps.
            ushort opMask = exact && m.ArpOp != 0 ? ushort.MaxValue : m.ArpOp;
            if ((m.NwSrc | m.NwDst | opMask | m.ArpSha | m.ArpTha) == 0)
            {
                return;
            }

            Begin(ref first, "arp");
            Ipv4Field("sip", k.NwSrc, m.NwSrc);
            Ipv4Field("tip", k.NwDst, m.NwDst);
            U16Decimal("op", k.ArpOp, opMask);
            Mac("sha", k.ArpSha, m.ArpSha);
            Mac("tha", k.ArpTha, m.ArpTha);
            sb.ChompComma();
            End();
        }

        private void Transport(in FlowKey k, in FlowKey m, ref bool first)
        {
            switch (k.NwProto)
            {
                case IpProtocols.Tcp:
                    Ports("tcp", in k, in m, ref first);
                    ushort flagsMask = (ushort)(m.TcpFlags & OdpText.TcpFlagsMask);
                    if (flagsMask != 0)
                    {
                        Begin(ref first, "tcp_flags");
                        if (exact)
                        {
                            sb.AppendFlags(k.TcpFlags, OdpText.TcpFlags, '|');
                        }
                        else
                        {
                            sb.AppendFlagsMasked(k.TcpFlags, flagsMask, OdpText.TcpFlagsMask, OdpText.TcpFlags);
                        }

                        End();
                    }

                    break;
                case IpProtocols.Udp:
                    Ports("udp", in k, in m, ref first);
                    break;
                case IpProtocols.Sctp:
                    Ports("sctp", in k, in m, ref first);
                    break;
                case IpProtocols.Icmp when k.IsIpv4:
                    Icmp("icmp", in k, in m, ref first);
                    break;
                case IpProtocols.Icmpv6 when k.IsIpv6:
                    Icmp("icmpv6", in k, in m, ref first);

                    // The ND attribute exists only when type and code are matched exactly.
                    if (IsNeighborDiscovery(in k) && (byte)m.TpSrc == byte.MaxValue && (byte)m.TpDst == byte.MaxValue)
                    {
                        NeighborDiscovery(in k, in m, ref first);
                    }

                    break;
            }
        }

        private void Ports(string name, in FlowKey k, in FlowKey m, ref bool first)
        {
            if ((m.TpSrc | m.TpDst) == 0)
            {
                return;
            }

            Begin(ref first, name);
            U16Decimal("src", k.TpSrc, m.TpSrc);
            U16Decimal("dst", k.TpDst, m.TpDst);
            sb.ChompComma();
            End();
        }

        private void Icmp(string name, in FlowKey k, in FlowKey m, ref bool first)
        {
            byte typeMask = (byte)m.TpSrc;
            byte codeMask = (byte)m.TpDst;
            if ((typeMask | codeMask) == 0)
            {
                return;
            }

            Begin(ref first, name);
            U8Decimal("type", (byte)k.TpSrc, typeMask);
            U8Decimal("code", (byte)k.TpDst, codeMask);
            sb.ChompComma();
            End();
        }

        private void NeighborDiscovery(in FlowKey k, in FlowKey m, ref bool first)
        {
            if (m.NdTarget == UInt128.Zero && (m.ArpSha | m.ArpTha) == 0)
            {
                return;
            }

            Begin(ref first, "nd");
            Ipv6Field("target", k.NdTarget, m.NdTarget);
            Mac("sll", k.ArpSha, m.ArpSha);
            Mac("tll", k.ArpTha, m.ArpTha);
            sb.ChompComma();
            End();
        }

        // ---- fields: each writes "name=value[/mask]," or nothing when its mask is zero ----

        private void Mac(string name, ulong value, ulong mask)
        {
            if (mask == 0)
            {
                return;
            }

            sb.Append(name).Append('=').AppendMac(value);
            if (!exact && mask != 0xFFFF_FFFF_FFFFUL)
            {
                sb.Append('/').AppendMac(mask);
            }

            sb.Append(',');
        }

        /// <summary>
        /// ct_tuple4(src=..,dst=..,proto=..,tp_src=..,tp_dst=..) or ct_tuple6(...): the original-direction
        /// tuple, when matched (a packet shows the family of its key: an IPv6 tuple has IPv6 addresses).
        /// </summary>
        private void CtTuple(in FlowKey k, in FlowKey m, ref bool first)
        {
            if (!m.HasCtTuple)
            {
                return;
            }

            bool v6 = k.CtIpv6Src != UInt128.Zero || k.CtIpv6Dst != UInt128.Zero || (k.IsIpv6 && k.CtNwSrc == 0 && k.CtNwDst == 0);
            Begin(ref first, v6 ? "ct_tuple6" : "ct_tuple4");
            if (v6)
            {
                Ipv6Field("src", k.CtIpv6Src, m.CtIpv6Src);
                Ipv6Field("dst", k.CtIpv6Dst, m.CtIpv6Dst);
            }
            else
            {
                Ipv4Field("src", k.CtNwSrc, m.CtNwSrc);
                Ipv4Field("dst", k.CtNwDst, m.CtNwDst);
            }

            U8Decimal("proto", k.CtNwProto, m.CtNwProto);
            U16Decimal("tp_src", k.CtTpSrc, m.CtTpSrc);
            U16Decimal("tp_dst", k.CtTpDst, m.CtTpDst);
            if (sb[^1] == ',')
            {
                sb.Length--;
            }

            End();
        }

        private void Ipv4Field(string name, uint value, uint mask)
        {
            if (mask == 0)
            {
                return;
            }

            sb.Append(name).Append('=').AppendIpv4(value);
            if (!exact && mask != uint.MaxValue)
            {
                sb.Append('/').AppendIpv4(mask);
            }

            sb.Append(',');
        }

        private void Ipv6Field(string name, UInt128 value, UInt128 mask)
        {
            if (mask == UInt128.Zero)
            {
                return;
            }

            sb.Append(name).Append('=').AppendIpv6(value);
            if (!exact && mask != UInt128.MaxValue)
            {
                sb.Append('/').AppendIpv6(mask);
            }

            sb.Append(',');
        }

        /// <summary>format_u8u: decimal value, "/0x.." mask when partial.</summary>
        private void U8Decimal(string name, byte value, byte mask)
        {
            if (mask == 0)
            {
                return;
            }

            sb.Append(name).Append('=').AppendDecimal(value);
            SlashHashHex(mask, byte.MaxValue);
            sb.Append(',');
        }

        /// <summary>format_u8x: "%#x" value and mask.</summary>
        private void U8Hex(string name, byte value, byte mask)
        {
            if (mask == 0)
            {
                return;
            }

            sb.Append(name).Append('=').AppendHashHex(value);
            SlashHashHex(mask, byte.MaxValue);
            sb.Append(',');
        }

        /// <summary>format_be16: decimal value, "/0x.." mask when partial.</summary>
        private void U16Decimal(string name, ushort value, ushort mask)
        {
            if (mask == 0)
            {
                return;
            }

            sb.Append(name).Append('=').AppendDecimal(value);
            SlashHashHex(mask, ushort.MaxValue);
            sb.Append(',');
        }

        /// <summary>format_frag: the ODP frag type is an enumeration, matched wholly or not at all.</summary>
        private void Frag(byte nwFrag, byte odpMask)
        {
            if (odpMask == 0)
            {
                return;
            }

            string type = (nwFrag & FlowKey.FragAny) == 0 ? "no"
                : (nwFrag & FlowKey.FragLater) != 0 ? "later"
                : "first";
            sb.Append("frag=").Append(type).Append(',');
        }

        /// <summary>format_vlan_tci: vid and pcp when set or masked, "cfi=0" when no tag is present.</summary>
        private void VlanTci(ushort tci, ushort mask)
        {
            int vid = tci & 0x0fff;
            int vidMask = mask & 0x0fff;
            int pcp = tci >> 13;
            int pcpMask = mask >> 13;
            if (vid != 0 || vidMask != 0)
            {
                sb.Append("vid=").AppendDecimal((ulong)vid);
                if (vidMask != 0x0fff)
                {
                    sb.Append("/0x").Append(vidMask.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
                }

                sb.Append(',');
            }

            if (pcp != 0 || pcpMask != 0)
            {
                sb.Append("pcp=").AppendDecimal((ulong)pcp);
                if (pcpMask != 7)
                {
                    sb.Append("/0x").Append(pcpMask.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
                }

                sb.Append(',');
            }

            if ((tci & FlowKey.VlanPresent) == 0)
            {
                sb.Append("cfi=0,");
            }

            sb.ChompComma();
        }

        /// <summary>ovs_to_odp_frag() for masks: any nw_frag "is a fragment" bit makes the ODP field fully masked.</summary>
        private static byte OdpFragMask(byte nwFragMask) => (nwFragMask & FlowKey.FragAny) != 0 ? byte.MaxValue : (byte)0;

        private void SlashHashHex(ulong mask, ulong full)
        {
            if (!exact && mask != full)
            {
                sb.Append('/').AppendHashHex(mask);
            }
        }

        private StringBuilder Begin(ref bool first, string attribute)
        {
            if (!first)
            {
                sb.Append(',');
            }

            first = false;
            return sb.Append(attribute).Append('(');
        }

        private void End() => sb.Append(')');
    }
}
