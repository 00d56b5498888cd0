using Datapath.Flow;
using Datapath.OpenFlow.Syntax;

namespace Datapath.OpenFlow.Wire;

/// <summary>
/// Encodes <see cref="OfAction"/>s for a version, as Open vSwitch does (ofpacts_put_openflow_actions
/// / _instructions): standard actions where the version has them, Nicira ones otherwise
/// (resubmit, ct, reg_load, note...). OpenFlow 1.1+ rules get instructions: apply_actions, then
/// write_metadata and goto_table.
/// </summary>
public static class ActionEncoder
{
    /// <summary>The actions of a flow in a flow_mod or a flow statistics reply.</summary>
    public static void EncodeRule(OfpWriter w, IReadOnlyList<OfAction> actions, byte version, OfMatch? match = null)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(actions);
        if (version == OfpVersion.Of10)
        {
            EncodeList(w, actions, version, match);
            return;
        }

        var apply = new List<OfAction>();
        SetFieldOfAction? metadata = null;
        GotoTableAction? gotoTable = null;
        foreach (var action in actions)
        {
            switch (action)
            {
                case GotoTableAction g:
                    gotoTable = g;
                    break;
                case SetFieldOfAction { Spelling: SetFieldSpelling.WriteMetadata } m when metadata is null:
                    metadata = m;
                    break;
                default:
                    apply.Add(action);
                    break;
            }
        }

        if (apply.Count > 0)
        {
            int start = w.Mark();
            w.U16(4);
            w.U16(0);
            w.Zeros(4);
            EncodeList(w, apply, version, match);
            w.PatchLength16(start + 2, start);
        }

        if (metadata is not null)
        {
            w.U16(2);
            w.U16(24);
            w.Zeros(4);
            w.U64((ulong)metadata.Value);
            w.U64((ulong)metadata.Mask);
        }

        if (gotoTable is not null)
        {
            w.U16(1);
            w.U16(8);
            w.U8(gotoTable.Table);
            w.Zeros(3);
        }
    }

    /// <summary>A plain action list (OpenFlow 1.0 rules, packet_out, apply_actions, ct's nested actions).</summary>
    public static void EncodeList(OfpWriter w, IReadOnlyList<OfAction> actions, byte version, OfMatch? match = null)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(actions);
        foreach (var action in actions)
        {
            Encode(w, action, version, match);
        }
    }

    private static void Encode(OfpWriter w, OfAction action, byte version, OfMatch? match)
    {
        bool v10 = version == OfpVersion.Of10;
        switch (action)
        {
            case OutputAction o:
                Output(w, o.Port, 0, v10);
                break;
            case ReservedOutputAction r:
                Output(w, r.Port switch
                {
                    ReservedPort.InPort => OfpPort.InPort,
                    ReservedPort.Normal => OfpPort.Normal,
                    ReservedPort.Flood => OfpPort.Flood,
                    ReservedPort.All => OfpPort.All,
                    _ => OfpPort.Table,
                }, 0, v10);
                break;
            case ControllerAction c when c.Reason == PacketInReason.Action && c.ControllerId == 0:
                Output(w, OfpPort.Controller, c.MaxLength, v10);
                break;
            case ControllerAction c:
                {
                    int start = NxHeader(w, 20);
                    w.U16(c.MaxLength);
                    w.U16(c.ControllerId);
                    w.U8((byte)c.Reason);
                    w.U8(0);
                    NxEnd(w, start);
                    break;
                }

            case ResubmitAction rs:
                {
                    int start = NxHeader(w, rs.Table is null ? (ushort)1 : (ushort)14);
                    w.U16(OfpPort.To10(rs.InPort ?? OfpPort.InPort));
                    w.U8(rs.Table ?? 255);
                    w.Zeros(3);
                    NxEnd(w, start);
                    break;
                }

            case GotoTableAction g:
                {
                    // Only reached in OpenFlow 1.0 (1.1+ has the instruction): resubmit(,T) is what Open vSwitch sends.
                    int start = NxHeader(w, 14);
                    w.U16(OfpPort.To10(OfpPort.InPort));
                    w.U8(g.Table);
                    w.Zeros(3);
                    NxEnd(w, start);
                    break;
                }

            case ConntrackAction ct:
                Conntrack(w, ct, version);
                break;
            case CtClearAction:
                {
                    int start = NxHeader(w, 43);
                    NxEnd(w, start);
                    break;
                }

            case SetFieldOfAction s:
                SetField(w, s with { Field = Transport(s.Field, match) }, version);
                break;
            case MoveAction m:
                {
                    int start = NxHeader(w, 6);
                    w.U16((ushort)m.Source.Bits);
                    w.U16((ushort)m.Source.Offset);
                    w.U16((ushort)m.Destination.Offset);
                    w.U32(NxmHeader(m.Source.Field));
                    w.U32(NxmHeader(m.Destination.Field));
                    NxEnd(w, start);
                    break;
                }

            case DecTtlAction when v10:
                NxEnd(w, NxHeader(w, 18));
                break;
            case DecTtlAction:
                w.U16(24);
                w.U16(8);
                w.Zeros(4);
                break;
            case ExitAction:
                NxEnd(w, NxHeader(w, 17));
                break;
            case PushVlanAction pv when !v10:
                w.U16(17);
                w.U16(8);
                w.U16(pv.Tpid);
                w.Zeros(2);
                break;
            case PushVlanAction:
                // OpenFlow 1.0 has no push_vlan: a following set_vlan_vid (which pushes a tag) stands for it.
                break;
            case PopVlanAction:
                w.U16(v10 ? (ushort)3 : (ushort)18);
                w.U16(8);
                w.Zeros(4);
                break;
            case ModVlanVidAction mv when v10:
                w.U16(1);
                w.U16(8);
                w.U16(mv.Vid);
                w.Zeros(2);
                break;
            case ModVlanVidAction mv:
                SetFieldTlv(w, OxmFields.OxmVlanVid, (uint)(mv.Vid | FlowKey.VlanPresent), 0x1fff);
                break;
            case ModVlanPcpAction mp when v10:
                w.U16(2);
                w.U16(8);
                w.U8(mp.Pcp);
                w.Zeros(3);
                break;
            case ModVlanPcpAction mp:
                SetFieldTlv(w, OxmFields.OxmVlanPcp, mp.Pcp, 0xff);
                break;
            case NoteAction n:
                {
                    int start = NxHeader(w, 8);
                    foreach (string b in n.Hex.Split('.', StringSplitOptions.RemoveEmptyEntries))
                    {
                        w.U8(Convert.ToByte(b, 16));
                    }

                    w.PadTo8(start);
                    w.PatchLength16(start + 2, start);
                    break;
                }

            default:
                throw new OfpException(OfpErrorKind.BadActionType, "cannot encode " + action);
        }
    }

    private static void Output(OfpWriter w, uint port, ushort maxLength, bool v10)
    {
        w.U16(0);
        if (v10)
        {
            w.U16(8);
            w.U16(OfpPort.To10(port));
            w.U16(maxLength);
        }
        else
        {
            w.U16(16);
            w.U32(port);
            w.U16(maxLength);
            w.Zeros(6);
        }
    }

    /// <summary>Writes a Nicira action header (type, length placeholder, vendor, subtype); returns where it starts.</summary>
    internal static int NxHeader(OfpWriter w, ushort subtype)
    {
        int start = w.Mark();
        w.U16(0xffff);
        w.U16(0);
        w.U32(Nicira.VendorId);
        w.U16(subtype);
        return start;
    }

    private static void NxEnd(OfpWriter w, int start)
    {
        if (w.Length - start < 16)
        {
            w.Zeros(16 - (w.Length - start));
        }

        w.PadTo8(start);
        w.PatchLength16(start + 2, start);
    }

    private static void Conntrack(OfpWriter w, ConntrackAction ct, byte version)
    {
        int start = NxHeader(w, 35);
        w.U16(ct.Commit ? (ushort)1 : (ushort)0);
        if (ct.ZoneSource is { } source)
        {
            w.U32(NxmHeader(source.Field));
            w.U16((ushort)((source.Offset << 6) | (source.Bits - 1)));
        }
        else
        {
            w.U32(0);
            w.U16(ct.Zone);
        }

        w.U8(ct.Table ?? 255);
        w.Zeros(3);
        w.U16(0);
        if (ct.Nat is { } nat)
        {
            NatCodec.Encode(w, nat);
        }

        foreach (var set in ct.Exec)
        {
            SetField(w, set, version);
        }

        w.PatchLength16(start + 2, start);
    }

    private static void SetField(OfpWriter w, SetFieldOfAction s, byte version)
    {
        bool v10 = version == OfpVersion.Of10;
        var field = s.Field;
        UInt128 full = field == OfFields.NwTos ? 0xfc : field.AllOnes;
        bool whole = s.Mask == full;
        if (s.Spelling == SetFieldSpelling.WriteMetadata && v10)
        {
            int start = NxHeader(w, 22);
            w.Zeros(6);
            w.U64((ulong)s.Value);
            w.U64((ulong)s.Mask);
            NxEnd(w, start);
            return;
        }

        if (v10 && whole && s.Spelling != SetFieldSpelling.Load && Standard10(w, s))
        {
            return;
        }

        if (!v10 && whole && s.Spelling != SetFieldSpelling.Load)
        {
            if (field == OfFields.NwTtl)
            {
                w.U16(23);
                w.U16(8);
                w.U8((byte)s.Value);
                w.Zeros(3);
                return;
            }

            if (field == OfFields.NwTos)
            {
                SetFieldTlv(w, OxmFields.OxmIpDscp, s.Value >> 2, 0xff);
                return;
            }

            if (field == OfFields.IpDscp)
            {
                SetFieldTlv(w, OxmFields.OxmIpDscp, s.Value, 0xff);
                return;
            }

            if (OxmFields.ForField(field, oxm: version >= OfpVersion.Of12) is { } oxm)
            {
                SetFieldTlv(w, oxm, s.Value, OxmCodec.AllOnes(oxm.Size));
                return;
            }
        }

        // reg_load for a contiguous run of at most 64 bits, reg_load2 (masked TLV) otherwise.
        var header = OxmFields.ForField(field, oxm: false) ?? throw new OfpException(OfpErrorKind.BadActionSetType, $"cannot encode a write of {field.Name}");
        int offset = (int)UInt128.TrailingZeroCount(s.Mask);
        int bits = (int)UInt128.PopCount(s.Mask);
        bool contiguous = s.Mask != 0 && ((s.Mask >> offset) + 1 & (s.Mask >> offset)) == 0;
        if (contiguous && bits <= 64)
        {
            int start = NxHeader(w, 7);
            w.U16((ushort)((offset << 6) | (bits - 1)));
            w.U32(header.Header(false));
            w.U64((ulong)(s.Value >> offset));
            NxEnd(w, start);
            return;
        }

        int begin = NxHeader(w, 33);
        OxmCodec.Put(w, header, s.Value, s.Mask);
        w.PadTo8(begin);
        w.PatchLength16(begin + 2, begin);
    }

    /// <summary>OpenFlow 1.0's own set actions for whole-field writes of the fields it has.</summary>
    private static bool Standard10(OfpWriter w, SetFieldOfAction s)
    {
        var f = s.Field;
        ushort type;
        if (f == OfFields.EthSrc || f == OfFields.EthDst)
        {
            w.U16(f == OfFields.EthSrc ? (ushort)4 : (ushort)5);
            w.U16(16);
            Span<byte> mac = stackalloc byte[6];
            FlowKey.WriteMac(mac, (ulong)s.Value);
            w.Bytes(mac);
            w.Zeros(6);
            return true;
        }

        if (f == OfFields.Ipv4Src || f == OfFields.Ipv4Dst)
        {
            w.U16(f == OfFields.Ipv4Src ? (ushort)6 : (ushort)7);
            w.U16(8);
            w.U32((uint)s.Value);
            return true;
        }

        if (f == OfFields.NwTos || f == OfFields.IpDscp)
        {
            w.U16(8);
            w.U16(8);
            w.U8(f == OfFields.IpDscp ? (byte)(s.Value << 2) : (byte)s.Value);
            w.Zeros(3);
            return true;
        }

        if (f == OfFields.TpSrc || f == OfFields.TpDst || f == OfFields.TcpSrc || f == OfFields.TcpDst || f == OfFields.UdpSrc || f == OfFields.UdpDst)
        {
            type = f == OfFields.TpSrc || f == OfFields.TcpSrc || f == OfFields.UdpSrc ? (ushort)9 : (ushort)10;
            w.U16(type);
            w.U16(8);
            w.U16((ushort)s.Value);
            w.Zeros(2);
            return true;
        }

        return false;
    }

    private static void SetFieldTlv(OfpWriter w, OxmField field, UInt128 value, UInt128 mask)
    {
        int start = w.Mark();
        w.U16(25);
        w.U16(0);
        OxmCodec.Put(w, field, value, mask == 0xff && field.Size == 1 ? 0xff : mask == 0x1fff ? OxmCodec.AllOnes(field.Size) : mask);
        w.PadTo8(start);
        w.PatchLength16(start + 2, start);
    }

    /// <summary>tp_src/tp_dst written as the transport the rule matches (tcp when it says none), for the headers OpenFlow has.</summary>
    private static OfField Transport(OfField field, OfMatch? match)
    {
        if (field != OfFields.TpSrc && field != OfFields.TpDst)
        {
            return field;
        }

        bool src = field == OfFields.TpSrc;
        int proto = match is not null && match.Mask.Key.NwProto == byte.MaxValue ? match.Value.Key.NwProto : IpProtocols.Tcp;
        return proto switch
        {
            IpProtocols.Udp => src ? OfFields.UdpSrc : OfFields.UdpDst,
            IpProtocols.Sctp => src ? OfFields.SctpSrc : OfFields.SctpDst,
            _ => src ? OfFields.TcpSrc : OfFields.TcpDst,
        };
    }

    private static uint NxmHeader(OfField field) =>
        (OxmFields.ForField(field, oxm: false) ?? throw new OfpException(OfpErrorKind.BadActionArgument, $"{field.Name} has no NXM header")).Header(false);
}
