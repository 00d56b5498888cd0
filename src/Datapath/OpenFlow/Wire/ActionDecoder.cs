using Datapath.Flow;
using Datapath.OpenFlow.Syntax;

namespace Datapath.OpenFlow.Wire;

/// <summary>
/// Decodes OpenFlow actions (1.0 and 1.1+ numbering), OpenFlow 1.1+ instructions and the Nicira
/// actions Open vSwitch uses (Open vSwitch's ofpacts_pull_openflow_actions / _instructions) into
/// <see cref="OfAction"/>s, then checks them against the rule's match and table as the text syntax
/// does (prerequisites, ct_mark only inside ct, goto_table forward). Every length is checked;
/// anything this switch cannot carry out is an OFPBAC/OFPBIC error naming it, never skipped.
/// </summary>
public static class ActionDecoder
{
    private const ushort Vendor = 0xffff;

    /// <summary>Decodes an action list (OpenFlow 1.0 flow_mod, any packet_out, apply_actions).</summary>
    /// <param name="table">The rule's table (goto_table and resubmit check against it); 0 for packet_out.</param>
    public static List<OfAction> DecodeActions(ReadOnlySpan<byte> data, byte version, OfMatch match, byte table, bool packetOut = false)
    {
        var actions = new List<OfAction>();
        var reader = new OfpReader(data, OfpErrorKind.BadActionLength);
        while (!reader.IsEmpty)
        {
            DecodeOne(ref reader, version, actions, packetOut, insideCt: false);
        }

        Check(actions, match, table, insideCt: false);
        return actions;
    }

    /// <summary>Decodes OpenFlow 1.1+ instructions: apply_actions, write_metadata and goto_table; the rest are refused.</summary>
    public static List<OfAction> DecodeInstructions(ReadOnlySpan<byte> data, byte version, OfMatch match, byte table)
    {
        var actions = new List<OfAction>();
        OfAction? metadata = null;
        OfAction? gotoTable = null;
        var seen = new HashSet<ushort>();
        var reader = new OfpReader(data, OfpErrorKind.BadInstructionLength);
        while (!reader.IsEmpty)
        {
            ushort type = reader.PeekU16();
            ushort length = reader.PeekU16(2);
            if (length < 8 || length % 8 != 0)
            {
                throw new OfpException(OfpErrorKind.BadInstructionLength, $"instruction {type} has length {length}");
            }

            var body = reader.Sub(length, OfpErrorKind.BadInstructionLength);
            body.Skip(4);
            if (!seen.Add(type))
            {
                throw new OfpException(OfpErrorKind.BadInstructionUnsupported, $"instruction {type} given twice");
            }

            switch (type)
            {
                case 1: // OFPIT_GOTO_TABLE
                    gotoTable = new GotoTableAction(body.U8());
                    break;
                case 2: // OFPIT_WRITE_METADATA
                    body.Skip(4);
                    ulong value = body.U64();
                    ulong mask = body.U64();
                    metadata = new SetFieldOfAction(OfFields.Metadata, value & mask, mask, SetFieldSpelling.WriteMetadata);
                    break;
                case 3:
                    throw new OfpException(OfpErrorKind.BadInstructionUnsupported, "write_actions: this switch has no action sets");
                case 4: // OFPIT_APPLY_ACTIONS
                    body.Skip(4);
                    var inner = body.Rest();
                    var r = new OfpReader(inner, OfpErrorKind.BadActionLength);
                    while (!r.IsEmpty)
                    {
                        DecodeOne(ref r, version, actions, packetOut: false, insideCt: false);
                    }

                    break;
                case 5:
                    throw new OfpException(OfpErrorKind.BadInstructionUnsupported, "clear_actions: this switch has no action sets");
                case 6:
                    throw new OfpException(OfpErrorKind.BadInstructionUnsupported, "meter: this switch has no meters");
                default:
                    throw new OfpException(OfpErrorKind.BadInstructionUnknown, $"unknown instruction type {type}");
            }
        }

        if (metadata is not null)
        {
            actions.Add(metadata);
        }

        if (gotoTable is not null)
        {
            actions.Add(gotoTable);
        }

        Check(actions, match, table, insideCt: false);
        return actions;
    }

    private static void DecodeOne(ref OfpReader reader, byte version, List<OfAction> actions, bool packetOut, bool insideCt)
    {
        ushort type = reader.PeekU16();
        ushort length = reader.PeekU16(2);
        if (length < 8 || length % 8 != 0)
        {
            throw new OfpException(OfpErrorKind.BadActionLength, $"action {type} has length {length}");
        }

        var a = reader.Sub(length, OfpErrorKind.BadActionLength);
        a.Skip(4);
        if (type == Vendor)
        {
            DecodeNicira(ref a, version, actions, insideCt);
            return;
        }

        if (insideCt && !(version >= OfpVersion.Of12 && type == 25))
        {
            throw new OfpException(OfpErrorKind.BadActionArgument, "ct: only set_field or load of ct_mark or ct_label may be nested");
        }

        if (version == OfpVersion.Of10)
        {
            actions.Add(Decode10(ref a, type, length, packetOut));
        }
        else
        {
            var action = Decode11(ref a, type, length, version, packetOut);
            if (action is not null)
            {
                actions.Add(action);
            }
        }
    }

    private static OfAction Decode10(ref OfpReader a, ushort type, ushort length, bool packetOut)
    {
        switch (type)
        {
            case 0:
                {
                    Expect(length, 8, "output");
                    uint port = OfpPort.From10(a.U16());
                    return Output(port, a.U16(), packetOut);
                }

            case 1:
                {
                    Expect(length, 8, "set_vlan_vid");
                    ushort vid = a.U16();
                    if (vid > 4095)
                    {
                        throw new OfpException(OfpErrorKind.BadActionArgument, $"set_vlan_vid: {vid} is not a VID");
                    }

                    return new ModVlanVidAction(vid);
                }

            case 2:
                {
                    Expect(length, 8, "set_vlan_pcp");
                    byte pcp = a.U8();
                    return pcp <= 7 ? new ModVlanPcpAction(pcp) : throw new OfpException(OfpErrorKind.BadActionArgument, $"set_vlan_pcp: {pcp} is not a priority");
                }

            case 3:
                Expect(length, 8, "strip_vlan");
                return new PopVlanAction(true);
            case 4:
                Expect(length, 16, "set_dl_src");
                return new SetFieldOfAction(OfFields.EthSrc, FlowKey.ReadMac(a.Bytes(6)), OfFields.EthSrc.AllOnes, SetFieldSpelling.ModDlSrc);
            case 5:
                Expect(length, 16, "set_dl_dst");
                return new SetFieldOfAction(OfFields.EthDst, FlowKey.ReadMac(a.Bytes(6)), OfFields.EthDst.AllOnes, SetFieldSpelling.ModDlDst);
            case 6:
                Expect(length, 8, "set_nw_src");
                return new SetFieldOfAction(OfFields.Ipv4Src, a.U32(), OfFields.Ipv4Src.AllOnes, SetFieldSpelling.ModNwSrc);
            case 7:
                Expect(length, 8, "set_nw_dst");
                return new SetFieldOfAction(OfFields.Ipv4Dst, a.U32(), OfFields.Ipv4Dst.AllOnes, SetFieldSpelling.ModNwDst);
            case 8:
                {
                    Expect(length, 8, "set_nw_tos");
                    byte tos = a.U8();
                    return (tos & 3) == 0 ? new SetFieldOfAction(OfFields.NwTos, tos, 0xfc, SetFieldSpelling.ModNwTos) : throw new OfpException(OfpErrorKind.BadActionArgument, "set_nw_tos: the ECN bits must be zero");
                }

            case 9:
                Expect(length, 8, "set_tp_src");
                return new SetFieldOfAction(OfFields.TpSrc, a.U16(), OfFields.TpSrc.AllOnes, SetFieldSpelling.ModTpSrc);
            case 10:
                Expect(length, 8, "set_tp_dst");
                return new SetFieldOfAction(OfFields.TpDst, a.U16(), OfFields.TpDst.AllOnes, SetFieldSpelling.ModTpDst);
            case 11:
                throw new OfpException(OfpErrorKind.BadActionType, "enqueue: this switch has no queues");
            default:
                throw new OfpException(OfpErrorKind.BadActionType, $"unknown OpenFlow 1.0 action type {type}");
        }
    }

    private static OfAction? Decode11(ref OfpReader a, ushort type, ushort length, byte version, bool packetOut)
    {
        switch (type)
        {
            case 0:
                {
                    Expect(length, 16, "output");
                    uint port = a.U32();
                    return Output(port, a.U16(), packetOut);
                }

            case 17:
                {
                    Expect(length, 8, "push_vlan");
                    ushort tpid = a.U16();
                    return tpid is EtherTypes.Vlan8021Q or EtherTypes.Vlan8021AD
                        ? new PushVlanAction(tpid)
                        : throw new OfpException(OfpErrorKind.BadActionArgument, $"push_vlan: 0x{tpid:x4} is not a VLAN ethertype");
                }

            case 18:
                Expect(length, 8, "pop_vlan");
                return new PopVlanAction(false);
            case 23:
                Expect(length, 8, "set_nw_ttl");
                return new SetFieldOfAction(OfFields.NwTtl, a.U8(), OfFields.NwTtl.AllOnes, SetFieldSpelling.ModNwTtl);
            case 24:
                Expect(length, 8, "dec_nw_ttl");
                return new DecTtlAction();
            case 25 when version >= OfpVersion.Of12:
                return SetField(a.Rest(), version, masked: version >= OfpVersion.Of15);
            case 11 or 12 or 15 or 16 or 19 or 20:
                throw new OfpException(OfpErrorKind.BadActionType, $"MPLS and TTL-copy actions (type {type}) are not supported: this switch has no MPLS");
            case 21:
                throw new OfpException(OfpErrorKind.BadActionType, "set_queue: this switch has no queues");
            case 22:
                throw new OfpException(OfpErrorKind.BadActionType, "group: this switch has no groups");
            case 26 or 27:
                throw new OfpException(OfpErrorKind.BadActionType, "PBB actions are not supported");
            default:
                throw new OfpException(OfpErrorKind.BadActionType, $"unknown action type {type} in {OfpVersion.Name(version)}");
        }
    }

    private static OfAction Output(uint port, ushort maxLength, bool packetOut) => port switch
    {
        OfpPort.InPort => new ReservedOutputAction(ReservedPort.InPort),
        OfpPort.Normal => new ReservedOutputAction(ReservedPort.Normal),
        OfpPort.Flood => new ReservedOutputAction(ReservedPort.Flood),
        OfpPort.All => new ReservedOutputAction(ReservedPort.All),
        OfpPort.Controller => new ControllerAction(maxLength, PacketInReason.Action, 0),
        OfpPort.Table when packetOut => new ReservedOutputAction(ReservedPort.Table),
        OfpPort.Table => throw new OfpException(OfpErrorKind.BadActionOutPort, "output:TABLE is only allowed in packet_out"),
        OfpPort.Local => throw new OfpException(OfpErrorKind.BadActionOutPort, "output:LOCAL: this bridge has no local port"),
        0 or >= OfpPort.Max => throw new OfpException(OfpErrorKind.BadActionOutPort, $"output: {port:x} is not a port"),
        _ => new OutputAction(port),
    };

    private static void DecodeNicira(ref OfpReader a, byte version, List<OfAction> actions, bool insideCt)
    {
        uint vendor = a.U32();
        if (vendor != Nicira.VendorId)
        {
            throw new OfpException(OfpErrorKind.BadActionExperimenter, $"actions of experimenter 0x{vendor:x8} are not supported");
        }

        ushort subtype = a.U16();
        if (insideCt && subtype is not (7 or 33 or NatCodec.Subtype))
        {
            throw new OfpException(OfpErrorKind.BadActionArgument, "ct: only nat and set_field or load of ct_mark or ct_label may be nested");
        }

        switch (subtype)
        {
            case NatCodec.Subtype when insideCt:
                actions.Add(new NestedNat(NatCodec.Decode(ref a)));
                return;
            case 1: // NXAST_RESUBMIT
                {
                    uint port = OfpPort.From10(a.U16());
                    actions.Add(new ResubmitAction(Port(port), null));
                    return;
                }

            case 14: // NXAST_RESUBMIT_TABLE
                {
                    uint port = OfpPort.From10(a.U16());
                    byte table = a.U8();
                    if (port == OfpPort.InPort && table == 255)
                    {
                        throw new OfpException(OfpErrorKind.BadActionArgument, "resubmit: neither port nor table given");
                    }

                    actions.Add(new ResubmitAction(Port(port), table == 255 ? null : table));
                    return;
                }

            case 6: // NXAST_REG_MOVE
                {
                    int bits = a.U16();
                    int srcOffset = a.U16();
                    int dstOffset = a.U16();
                    var src = Subfield(a.U32(), srcOffset, bits, "move");
                    var dst = Subfield(a.U32(), dstOffset, bits, "move");
                    actions.Add(new MoveAction(src, dst));
                    return;
                }

            case 7: // NXAST_REG_LOAD
                {
                    ushort ofsNbits = a.U16();
                    uint header = a.U32();
                    ulong value = a.U64();
                    var dst = Subfield(header, ofsNbits >> 6, (ofsNbits & 0x3f) + 1, "load");
                    if (dst.Bits < 64 && (value >> dst.Bits) != 0)
                    {
                        throw new OfpException(OfpErrorKind.BadActionArgument, $"load: 0x{value:x} does not fit {dst.Bits} bits");
                    }

                    actions.Add(new SetFieldOfAction(dst.Field, (UInt128)value << dst.Offset, dst.Mask, SetFieldSpelling.Load));
                    return;
                }

            case 33: // NXAST_REG_LOAD2
                actions.Add(SetField(a.Rest(), version, masked: true));
                return;
            case 8: // NXAST_NOTE
                actions.Add(new NoteAction(string.Join('.', a.Rest().ToArray().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)))));
                return;
            case 17:
                actions.Add(new ExitAction());
                return;
            case 18:
                actions.Add(new DecTtlAction());
                return;
            case 20: // NXAST_CONTROLLER
                {
                    ushort maxLength = a.U16();
                    ushort id = a.U16();
                    byte reason = a.U8();
                    if (reason > (byte)PacketInReason.PacketOut)
                    {
                        throw new OfpException(OfpErrorKind.BadActionArgument, $"controller: unknown reason {reason}");
                    }

                    actions.Add(new ControllerAction(maxLength, (PacketInReason)reason, id));
                    return;
                }

            case 22: // NXAST_WRITE_METADATA
                {
                    a.Skip(6);
                    ulong value = a.U64();
                    ulong mask = a.U64();
                    actions.Add(new SetFieldOfAction(OfFields.Metadata, value & mask, mask, SetFieldSpelling.WriteMetadata));
                    return;
                }

            case 35:
                actions.Add(DecodeConntrack(ref a, version));
                return;
            case 43:
                actions.Add(new CtClearAction());
                return;
            case 34:
                throw new OfpException(OfpErrorKind.BadActionExperimenterType, "conjunction: this switch has no conjunctive matches");
            case 36:
                throw new OfpException(OfpErrorKind.BadActionExperimenterType, "nat: only allowed inside ct()");
            case 16:
                throw new OfpException(OfpErrorKind.BadActionExperimenterType, "learn: not supported by this switch");
            default:
                throw new OfpException(OfpErrorKind.BadActionExperimenterType, $"Nicira action subtype {subtype} is not supported by this switch");
        }
    }

    private static uint? Port(uint port) =>
        port == OfpPort.InPort ? null
        : port is 0 or >= OfpPort.Max ? throw new OfpException(OfpErrorKind.BadActionOutPort, $"resubmit: 0x{port:x} is not a port")
        : port;

    private static ConntrackAction DecodeConntrack(ref OfpReader a, byte version)
    {
        ushort flags = a.U16();
        uint zoneSource = a.U32();
        ushort zone = a.U16();
        byte table = a.U8();
        a.Skip(3);
        ushort alg = a.U16();
        if ((flags & ~1) != 0)
        {
            throw new OfpException(OfpErrorKind.BadActionArgument, (flags & 2) != 0 ? "ct(force) is not supported" : $"ct: unknown flags 0x{flags:x}");
        }

        if (alg != 0)
        {
            throw new OfpException(OfpErrorKind.BadActionArgument, $"ct(alg={alg}): helpers are not supported");
        }

        if (table != 255 && table > FlowEntry.MaxTable)
        {
            throw new OfpException(OfpErrorKind.BadActionArgument, $"ct: table {table} is not a table");
        }

        Subfield? source = null;
        if (zoneSource != 0)
        {
            source = Subfield(zoneSource, zone >> 6, (zone & 0x3f) + 1, "ct zone");
            if (source.Bits != 16)
            {
                throw new OfpException(OfpErrorKind.BadActionArgument, "ct: a zone subfield must be 16 bits wide");
            }

            zone = 0;
        }

        var nested = new List<OfAction>();
        var r = new OfpReader(a.Rest(), OfpErrorKind.BadActionLength);
        while (!r.IsEmpty)
        {
            DecodeOne(ref r, version, nested, packetOut: false, insideCt: true);
        }

        var exec = new List<SetFieldOfAction>();
        Actions.NatArgs? nat = null;
        foreach (var action in nested)
        {
            if (action is NestedNat n)
            {
                nat = nat is null ? n.Nat : throw new OfpException(OfpErrorKind.BadActionArgument, "ct: nat given twice");
                continue;
            }

            if (action is not SetFieldOfAction { Field.ConntrackOnly: true } set)
            {
                throw new OfpException(OfpErrorKind.BadActionArgument, "ct: exec() may only set ct_mark or ct_label");
            }

            exec.Add(set);
        }

        bool commit = (flags & 1) != 0;
        if (exec.Count > 0 && !commit)
        {
            throw new OfpException(OfpErrorKind.BadActionArgument, "ct: exec() needs commit");
        }

        return new ConntrackAction(commit, zone, source, table == 255 ? null : table, exec) { Nat = nat };
    }

    /// <summary>A set_field (or reg_load2) TLV: header, value and, when <paramref name="masked"/> allows, a mask.</summary>
    private static OfAction SetField(ReadOnlySpan<byte> data, byte version, bool masked)
    {
        var r = new OfpReader(data, OfpErrorKind.BadActionSetLength);
        uint header = r.U32();
        bool hasMask = (header & 0x100) != 0;
        int length = (int)(header & 0xff);
        var oxm = OxmFields.Find(header);
        if (oxm is null || oxm.Field is null || oxm.Mapping is OxmMapping.Unsupported or OxmMapping.Cookie)
        {
            throw new OfpException(OfpErrorKind.BadActionSetType, oxm is null ? $"set_field: unknown field 0x{header:x8}" : $"set_field: {oxm.Name} is not supported by this switch");
        }

        if (hasMask && !masked)
        {
            throw new OfpException(OfpErrorKind.BadActionSetArgument, $"set_field: a mask is not allowed in {OfpVersion.Name(version)}");
        }

        if (length != (hasMask ? 2 * oxm.Size : oxm.Size))
        {
            throw new OfpException(OfpErrorKind.BadActionSetLength, $"set_field: {oxm.Name} has length {length}");
        }

        UInt128 value = OxmCodec.ReadValue(r.Bytes(oxm.Size));
        UInt128 mask = hasMask ? OxmCodec.ReadValue(r.Bytes(oxm.Size)) : oxm.Field.AllOnes;
        var field = oxm.Field;
        switch (oxm.Mapping)
        {
            case OxmMapping.VlanVid:
                return (value & FlowKey.VlanPresent) != 0 && value <= 0x1fff
                    ? new ModVlanVidAction((ushort)(value & 0x0fff), PushIfNeeded: false)
                    : throw new OfpException(OfpErrorKind.BadActionSetArgument, $"set_field: vlan_vid 0x{value:x} lacks OFPVID_PRESENT");
            case OxmMapping.VlanPcp:
                return value <= 7 ? new ModVlanPcpAction((byte)value, PushIfNeeded: false) : throw new OfpException(OfpErrorKind.BadActionSetArgument, "set_field: vlan_pcp out of range");
            case OxmMapping.InPort16:
                throw new OfpException(OfpErrorKind.BadActionSetType, "set_field: in_port is not writable here");
        }

        if (!field.Writable)
        {
            throw new OfpException(OfpErrorKind.BadActionSetType, $"set_field: {field.Name} is not writable");
        }

        if (value > field.AllOnes || mask > field.AllOnes)
        {
            throw new OfpException(OfpErrorKind.BadActionSetArgument, $"set_field: value does not fit {field.Name}");
        }

        if (field == OfFields.NwTos)
        {
            mask &= 0xfc;
        }

        bool full = mask == field.AllOnes || (field == OfFields.NwTos && mask == 0xfc);
        return new SetFieldOfAction(field, value & mask, mask, full || hasMask ? SetFieldSpelling.SetField : SetFieldSpelling.Load);
    }

    private static Subfield Subfield(uint header, int offset, int bits, string what)
    {
        var oxm = OxmFields.Find(header);
        if (oxm is null || oxm.Field is null || oxm.Mapping != OxmMapping.Plain)
        {
            throw new OfpException(OfpErrorKind.BadActionArgument, oxm is null ? $"{what}: unknown field 0x{header:x8}" : $"{what}: {oxm.Name} is not supported here");
        }

        if (bits < 1 || offset < 0 || offset + bits > oxm.Field.Width)
        {
            throw new OfpException(OfpErrorKind.BadActionArgument, $"{what}: bits {offset}..{offset + bits - 1} are outside {oxm.Field.Name} ({oxm.Field.Width} bits)");
        }

        return new Subfield(oxm.Field, offset, bits);
    }

    private static void Expect(ushort length, int expected, string what)
    {
        if (length != expected)
        {
            throw new OfpException(OfpErrorKind.BadActionLength, $"{what}: length {length} (expected {expected})");
        }
    }

    /// <summary>The checks ovs-ofctl's text syntax makes (ActionParser), as OpenFlow errors.</summary>
    private static void Check(List<OfAction> actions, OfMatch match, byte table, bool insideCt)
    {
        for (int i = 0; i < actions.Count; i++)
        {
            switch (actions[i])
            {
                case SetFieldOfAction { Spelling: SetFieldSpelling.WriteMetadata } when i + 1 < actions.Count && actions[i + 1] is not GotoTableAction:
                    throw new OfpException(OfpErrorKind.BadActionUnsupportedOrder, "write_metadata must come after every other action but goto_table");
                case SetFieldOfAction s:
                    CheckWritable(s.Field, match, insideCt);
                    break;
                case MoveAction m:
                    CheckWritable(m.Destination.Field, match, insideCt);
                    if (!Prerequisites.Satisfied(m.Source.Field.Prerequisite, in match.Value, in match.Mask))
                    {
                        throw new OfpException(OfpErrorKind.BadActionMatchInconsistent, $"move: reading {m.Source.Field.Name} needs {Prerequisites.Describe(m.Source.Field.Prerequisite)} in the match");
                    }

                    break;
                case GotoTableAction g:
                    if (g.Table <= table || g.Table > FlowEntry.MaxTable)
                    {
                        throw new OfpException(OfpErrorKind.BadInstructionTableId, $"goto_table:{g.Table} must go to a later table than {table}");
                    }

                    if (i != actions.Count - 1)
                    {
                        throw new OfpException(OfpErrorKind.BadActionUnsupportedOrder, "goto_table must be last");
                    }

                    break;
                case ConntrackAction ct:
                    if (!Prerequisites.Satisfied(FieldPrerequisite.IpAny, in match.Value, in match.Mask))
                    {
                        throw new OfpException(OfpErrorKind.BadActionMatchInconsistent, "ct: the rule must match ip or ipv6");
                    }

                    if (ct.Nat is { HasAddress: true } nat
                        && !Prerequisites.Satisfied(nat.IsIpv6 ? FieldPrerequisite.Ipv6 : FieldPrerequisite.Ipv4, in match.Value, in match.Mask))
                    {
                        throw new OfpException(OfpErrorKind.BadActionMatchInconsistent, $"ct: nat with an {(nat.IsIpv6 ? "IPv6" : "IPv4")} range needs a rule that matches {(nat.IsIpv6 ? "ipv6" : "ip")}");
                    }

                    break;
                case ResubmitAction { Table: { } t } when t > FlowEntry.MaxTable:
                    throw new OfpException(OfpErrorKind.BadActionArgument, $"resubmit: table {t} is not a table");
            }
        }
    }

    private static void CheckWritable(OfField field, OfMatch match, bool insideCt)
    {
        if (field.ConntrackOnly && !insideCt)
        {
            throw new OfpException(OfpErrorKind.BadActionSetArgument, $"{field.Name} may only be set inside ct(commit,exec(...))");
        }

        if (!Prerequisites.Satisfied(field.Prerequisite, in match.Value, in match.Mask))
        {
            throw new OfpException(OfpErrorKind.BadActionMatchInconsistent, $"writing {field.Name} needs {Prerequisites.Describe(field.Prerequisite)} in the match");
        }
    }

    /// <summary>A nat found among ct's nested actions, before it is folded into the ct action.</summary>
    private sealed record NestedNat(Actions.NatArgs Nat) : OfAction;
}
