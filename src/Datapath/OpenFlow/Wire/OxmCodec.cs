using System.Buffers.Binary;
using Datapath.Flow;
using Datapath.OpenFlow.Syntax;

namespace Datapath.OpenFlow.Wire;

/// <summary>
/// NXM and OXM matches (Open vSwitch's nx_pull_match / nx_put_match, lib/nx-match.c): a sequence
/// of type-length-value fields. Decoding checks every length, refuses unknown or unsupported
/// fields by name, duplicates, masks on fields that take none, values outside the field, and
/// unmet prerequisites; the result is the same <see cref="OfMatch"/> the text syntax gives.
/// </summary>
public static class OxmCodec
{
    /// <summary>Decodes <paramref name="tlvs"/> (exactly the match's fields, no padding).</summary>
    /// <exception cref="OfpException">A bad match, with the OFPBMC_* error that says why.</exception>
    public static OfMatch Decode(ReadOnlySpan<byte> tlvs, out ulong cookie, out ulong cookieMask)
    {
        var flow = default(OfFlow);
        var mask = default(OfFlow);
        var seen = new HashSet<uint>();
        var fields = new List<OfField>();
        cookie = 0;
        cookieMask = 0;
        var reader = new OfpReader(tlvs, OfpErrorKind.BadMatchLength);
        while (!reader.IsEmpty)
        {
            uint header = reader.U32();
            bool hasMask = (header & 0x100) != 0;
            int length = (int)(header & 0xff);
            ushort cls = (ushort)(header >> 16);
            if (length == 0)
            {
                throw new OfpException(OfpErrorKind.BadMatchLength, "match field with length 0");
            }

            var body = reader.Sub(length, OfpErrorKind.BadMatchLength);
            if (cls == OxmField.Experimenter)
            {
                uint experimenter = body.U32();
                throw new OfpException(OfpErrorKind.BadMatchField, $"experimenter match field 0x{header:x8} of experimenter 0x{experimenter:x8} is not supported");
            }

            var field = OxmFields.Find(header) ?? throw new OfpException(OfpErrorKind.BadMatchField, $"unknown match field 0x{header:x8} (class 0x{cls:x4}, field {(header >> 9) & 0x7f})");
            if (field.Mapping == OxmMapping.Unsupported)
            {
                throw new OfpException(OfpErrorKind.BadMatchField, $"match field {field.Name} is not supported by this switch");
            }

            if (length != (hasMask ? field.Size * 2 : field.Size))
            {
                throw new OfpException(OfpErrorKind.BadMatchLength, $"{field.Name}: length {length} (expected {(hasMask ? field.Size * 2 : field.Size)})");
            }

            if (hasMask && !field.Maskable)
            {
                throw new OfpException(OfpErrorKind.BadMatchMask, $"{field.Name} cannot be masked");
            }

            if (!seen.Add(field.Key))
            {
                throw new OfpException(OfpErrorKind.BadMatchDuplicateField, $"{field.Name} appears twice");
            }

            UInt128 value = ReadValue(body.Bytes(field.Size));
            UInt128 m = hasMask ? ReadValue(body.Bytes(field.Size)) : UInt128.MaxValue;
            if (hasMask && (value & ~m) != 0)
            {
                // Open vSwitch's nx_pull_match refuses 1-bits under a 0-bit of the mask.
                throw new OfpException(OfpErrorKind.BadMatchWildcards, $"{field.Name}: value has bits outside its mask");
            }

            if (field.Mapping == OxmMapping.Cookie)
            {
                cookie = (ulong)value;
                cookieMask = (ulong)m;
                continue;
            }

            Apply(field, value, m, hasMask, ref flow, ref mask);
            fields.Add(field.Field!);
        }

        foreach (var f in fields)
        {
            var prerequisite = f == OfFields.Ipv4Src || f == OfFields.Ipv4Dst ? FieldPrerequisite.Ipv4 : f.Prerequisite;
            if (!Prerequisites.Satisfied(prerequisite, in flow, in mask))
            {
                throw new OfpException(OfpErrorKind.BadMatchPrerequisite, $"{f.Name} needs {Prerequisites.Describe(prerequisite)} in the match");
            }
        }

        return new OfMatch(in flow, in mask);
    }

    private static void Apply(OxmField field, UInt128 value, UInt128 m, bool hasMask, ref OfFlow flow, ref OfFlow mask)
    {
        var f = field.Field!;
        switch (field.Mapping)
        {
            case OxmMapping.InPort16:
                flow.Key.InPort = OfpPort.From10((ushort)value);
                mask.Key.InPort = uint.MaxValue;
                return;
            case OxmMapping.VlanVid:
                m = hasMask ? m : 0x1fff;
                if (value > 0x1fff || m > 0x1fff)
                {
                    throw new OfpException(OfpErrorKind.BadMatchValue, $"{field.Name}: 0x{value:x} is not a VID with OFPVID_PRESENT");
                }

                flow.Key.Vlan0Tci = (ushort)((flow.Key.Vlan0Tci & 0xe000) | (ushort)value);
                mask.Key.Vlan0Tci = (ushort)((mask.Key.Vlan0Tci & 0xe000) | (ushort)m);
                return;
            case OxmMapping.VlanPcp:
                if (value > 7)
                {
                    throw new OfpException(OfpErrorKind.BadMatchValue, $"{field.Name}: {value} is not a priority 0..7");
                }

                flow.Key.Vlan0Tci = (ushort)((flow.Key.Vlan0Tci & 0x1fff) | ((ushort)value << 13));
                mask.Key.Vlan0Tci = (ushort)(mask.Key.Vlan0Tci | 0xe000);
                return;
        }

        if (value > f.AllOnes || (hasMask && m > f.AllOnes))
        {
            throw new OfpException(OfpErrorKind.BadMatchValue, $"{field.Name}: 0x{value:x} does not fit {f.Name} ({f.Width} bits)");
        }

        if (f == OfFields.NwTos && (value & 0x03) != 0)
        {
            throw new OfpException(OfpErrorKind.BadMatchValue, $"{field.Name}: the ECN bits must be zero");
        }

        // The representation the text syntax gives (FlowParser's MatchBuilder): shared bytes merged, ICMP over 16 bits.
        UInt128 fieldMask = f == OfFields.NwTos ? 0xfc
            : f == OfFields.NwEcn ? 0x03
            : (f == OfFields.IcmpType || f == OfFields.IcmpCode) ? ushort.MaxValue
            : hasMask ? m : f.AllOnes;
        f.Set(ref flow, value);
        f.Set(ref mask, f.Get(in mask) | fieldMask);
    }

    /// <summary>
    /// Encodes <paramref name="match"/>: NXM headers for OpenFlow 1.0 (<paramref name="oxm"/> false),
    /// OXM headers where OpenFlow 1.2+ has them (NXM ones for the rest), prerequisites first.
    /// </summary>
    public static void Encode(OfpWriter w, OfMatch match, bool oxm, ulong cookie = 0, ulong cookieMask = 0)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(match);
        ref readonly var v = ref match.Value;
        ref readonly var m = ref match.Mask;
        bool typeKnown = m.Key.EthType == ushort.MaxValue;
        ushort type = typeKnown ? v.Key.EthType : (ushort)0;
        bool arp = type is EtherTypes.Arp or 0x8035;
        bool ip4 = type == EtherTypes.Ipv4;
        bool ip6 = type == EtherTypes.Ipv6;
        int proto = m.Key.NwProto == byte.MaxValue && (ip4 || ip6) ? v.Key.NwProto : -1;

        if (m.Key.InPort != 0)
        {
            if (oxm)
            {
                Put(w, OxmFields.OxmInPort, v.Key.InPort, uint.MaxValue);
            }
            else
            {
                Put(w, OxmFields.NxmInPort, OfpPort.To10(v.Key.InPort), 0xffff);
            }
        }

        if (m.Metadata != 0)
        {
            Put(w, OxmFields.OxmMetadata, v.Metadata, m.Metadata);
        }

        for (int i = 0; i < OfRegisters.Count; i++)
        {
            if (m.Regs[i] != 0)
            {
                Put(w, OxmFields.NxmRegs[i], v.Regs[i], m.Regs[i]);
            }
        }

        if (cookieMask != 0)
        {
            Put(w, OxmFields.NxmCookie, cookie & cookieMask, cookieMask);
        }

        PutIf(w, OxmFields.NxmCtState, (byte)v.Key.CtState, (byte)m.Key.CtState);
        PutIf(w, OxmFields.NxmCtZone, v.Key.CtZone, m.Key.CtZone);
        PutIf(w, OxmFields.NxmCtMark, v.Key.CtMark, m.Key.CtMark);
        PutIf(w, OxmFields.NxmCtLabel, v.Key.CtLabel, m.Key.CtLabel);
        PutIf(w, OxmFields.NxmCtNwProto, v.Key.CtNwProto, m.Key.CtNwProto);
        PutIf(w, OxmFields.NxmCtNwSrc, v.Key.CtNwSrc, m.Key.CtNwSrc);
        PutIf(w, OxmFields.NxmCtNwDst, v.Key.CtNwDst, m.Key.CtNwDst);
        PutIf(w, OxmFields.NxmCtIpv6Src, v.Key.CtIpv6Src, m.Key.CtIpv6Src);
        PutIf(w, OxmFields.NxmCtIpv6Dst, v.Key.CtIpv6Dst, m.Key.CtIpv6Dst);
        PutIf(w, OxmFields.NxmCtTpSrc, v.Key.CtTpSrc, m.Key.CtTpSrc);
        PutIf(w, OxmFields.NxmCtTpDst, v.Key.CtTpDst, m.Key.CtTpDst);
        PutIf(w, oxm ? OxmFields.OxmEthSrc : OxmFields.NxmEthSrc, v.Key.EthSrc, m.Key.EthSrc);
        PutIf(w, oxm ? OxmFields.OxmEthDst : OxmFields.NxmEthDst, v.Key.EthDst, m.Key.EthDst);
        PutIf(w, oxm ? OxmFields.OxmEthType : OxmFields.NxmEthType, v.Key.EthType, m.Key.EthType);
        PutVlan(w, v.Key.Vlan0Tci, m.Key.Vlan0Tci, oxm);
        if (arp)
        {
            PutIf(w, oxm ? OxmFields.OxmArpOp : OxmFields.NxmArpOp, v.Key.ArpOp, m.Key.ArpOp == 0 ? 0 : 0xffffu);
            PutIf(w, oxm ? OxmFields.OxmArpSpa : OxmFields.NxmArpSpa, v.Key.NwSrc, m.Key.NwSrc);
            PutIf(w, oxm ? OxmFields.OxmArpTpa : OxmFields.NxmArpTpa, v.Key.NwDst, m.Key.NwDst);
            PutIf(w, oxm ? OxmFields.OxmArpSha : OxmFields.NxmArpSha, v.Key.ArpSha, m.Key.ArpSha);
            PutIf(w, oxm ? OxmFields.OxmArpTha : OxmFields.NxmArpTha, v.Key.ArpTha, m.Key.ArpTha);
            return;
        }

        if (!(ip4 || ip6))
        {
            return;
        }

        PutIf(w, oxm ? OxmFields.OxmIpProto : OxmFields.NxmIpProto, v.Key.NwProto, m.Key.NwProto);
        if ((m.Key.NwTos & 0xfc) != 0)
        {
            if (oxm)
            {
                Put(w, OxmFields.OxmIpDscp, (uint)(v.Key.NwTos >> 2), 0x3f);
            }
            else
            {
                Put(w, OxmFields.NxmIpTos, (uint)(v.Key.NwTos & 0xfc), 0xff);
            }
        }

        if ((m.Key.NwTos & 0x03) != 0)
        {
            Put(w, oxm ? OxmFields.OxmIpEcn : OxmFields.NxmIpEcn, (uint)(v.Key.NwTos & 0x03), 0xff);
        }

        PutIf(w, OxmFields.NxmIpTtl, v.Key.NwTtl, m.Key.NwTtl);
        PutIf(w, OxmFields.NxmIpFrag, v.Key.NwFrag, m.Key.NwFrag);
        if (ip4)
        {
            PutIf(w, oxm ? OxmFields.OxmIpv4Src : OxmFields.NxmIpSrc, v.Key.NwSrc, m.Key.NwSrc);
            PutIf(w, oxm ? OxmFields.OxmIpv4Dst : OxmFields.NxmIpDst, v.Key.NwDst, m.Key.NwDst);
        }
        else
        {
            PutIf(w, oxm ? OxmFields.OxmIpv6Src : OxmFields.NxmIpv6Src, v.Key.Ipv6Src, m.Key.Ipv6Src);
            PutIf(w, oxm ? OxmFields.OxmIpv6Dst : OxmFields.NxmIpv6Dst, v.Key.Ipv6Dst, m.Key.Ipv6Dst);
            PutIf(w, oxm ? OxmFields.OxmIpv6Flabel : OxmFields.NxmIpv6Label, v.Key.Ipv6Label, m.Key.Ipv6Label);
        }

        switch (proto)
        {
            case IpProtocols.Tcp:
                PutIf(w, oxm ? OxmFields.OxmTcpSrc : OxmFields.NxmTcpSrc, v.Key.TpSrc, m.Key.TpSrc);
                PutIf(w, oxm ? OxmFields.OxmTcpDst : OxmFields.NxmTcpDst, v.Key.TpDst, m.Key.TpDst);
                PutIf(w, OxmFields.NxmTcpFlags, (uint)(v.Key.TcpFlags & 0x0fff), (uint)(m.Key.TcpFlags & 0x0fff));
                break;
            case IpProtocols.Udp:
                PutIf(w, oxm ? OxmFields.OxmUdpSrc : OxmFields.NxmUdpSrc, v.Key.TpSrc, m.Key.TpSrc);
                PutIf(w, oxm ? OxmFields.OxmUdpDst : OxmFields.NxmUdpDst, v.Key.TpDst, m.Key.TpDst);
                break;
            case IpProtocols.Sctp:
                PutIf(w, OxmFields.OxmSctpSrc, v.Key.TpSrc, m.Key.TpSrc);
                PutIf(w, OxmFields.OxmSctpDst, v.Key.TpDst, m.Key.TpDst);
                break;
            case IpProtocols.Icmp:
                PutIf(w, oxm ? OxmFields.OxmIcmpv4Type : OxmFields.NxmIcmpType, (byte)v.Key.TpSrc, m.Key.TpSrc == 0 ? 0 : 0xffu);
                PutIf(w, oxm ? OxmFields.OxmIcmpv4Code : OxmFields.NxmIcmpCode, (byte)v.Key.TpDst, m.Key.TpDst == 0 ? 0 : 0xffu);
                break;
            case IpProtocols.Icmpv6:
                PutIf(w, oxm ? OxmFields.OxmIcmpv6Type : OxmFields.NxmIcmpv6Type, (byte)v.Key.TpSrc, m.Key.TpSrc == 0 ? 0 : 0xffu);
                PutIf(w, oxm ? OxmFields.OxmIcmpv6Code : OxmFields.NxmIcmpv6Code, (byte)v.Key.TpDst, m.Key.TpDst == 0 ? 0 : 0xffu);
                PutIf(w, oxm ? OxmFields.OxmNdTarget : OxmFields.NxmNdTarget, v.Key.NdTarget, m.Key.NdTarget);
                PutIf(w, oxm ? OxmFields.OxmNdSll : OxmFields.NxmNdSll, v.Key.ArpSha, m.Key.ArpSha);
                PutIf(w, oxm ? OxmFields.OxmNdTll : OxmFields.NxmNdTll, v.Key.ArpTha, m.Key.ArpTha);
                break;
        }
    }

    /// <summary>One TLV of <paramref name="field"/> holding <paramref name="value"/> (right-aligned), for set_field and reg_load2.</summary>
    internal static void Put(OfpWriter w, OxmField field, UInt128 value, UInt128 mask)
    {
        bool masked = mask != AllOnes(field.Size);
        if (masked && !field.Maskable)
        {
            masked = false;
        }

        w.U32(field.Header(masked));
        WriteValue(w, value & mask, field.Size);
        if (masked)
        {
            WriteValue(w, mask, field.Size);
        }
    }

    private static void PutIf(OfpWriter w, OxmField field, UInt128 value, UInt128 mask)
    {
        if (mask != 0)
        {
            Put(w, field, value, mask);
        }
    }

    private static void PutVlan(OfpWriter w, ushort tci, ushort mask, bool oxm)
    {
        if (mask == 0)
        {
            return;
        }

        // OXM's VLAN_VID (with VLAN_PCP for a tagged match) covers a full PCP and any VID mask;
        // other TCI masks keep NXM_OF_VLAN_TCI, as Open vSwitch does.
        int pcpMask = mask & 0xe000;
        bool tagged = (mask & tci & FlowKey.VlanPresent) != 0;
        if (oxm && (pcpMask == 0 || (pcpMask == 0xe000 && tagged)))
        {
            Put(w, OxmFields.OxmVlanVid, (uint)(tci & 0x1fff), (uint)(mask & 0x1fff));
            if (pcpMask != 0)
            {
                Put(w, OxmFields.OxmVlanPcp, (uint)(tci >> 13), 0xff);
            }

            return;
        }

        Put(w, OxmFields.NxmVlanTci, tci, mask);
    }

    internal static UInt128 ReadValue(ReadOnlySpan<byte> bytes)
    {
        UInt128 v = 0;
        foreach (byte b in bytes)
        {
            v = (v << 8) | b;
        }

        return v;
    }

    internal static void WriteValue(OfpWriter w, UInt128 value, int size)
    {
        for (int i = size - 1; i >= 0; i--)
        {
            w.U8((byte)(value >> (8 * i)));
        }
    }

    internal static UInt128 AllOnes(int size) => size >= 16 ? UInt128.MaxValue : (UInt128.One << (8 * size)) - 1;

    /// <summary>Reads the 4-byte header at the start of <paramref name="tlv"/>.</summary>
    internal static uint Header(ReadOnlySpan<byte> tlv) => BinaryPrimitives.ReadUInt32BigEndian(tlv);
}
