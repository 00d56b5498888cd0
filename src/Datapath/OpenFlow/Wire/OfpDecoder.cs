namespace Datapath.OpenFlow.Wire;

/// <summary>
/// Decodes one whole OpenFlow message (the framing layer has checked that its header's length is
/// the message's) into an <see cref="OfpMessage"/> (Open vSwitch's ofpraw_decode and the
/// ofputil_decode_* functions). Input from the network: every length and offset is checked, and
/// anything malformed or unsupported is an <see cref="OfpException"/> naming the OpenFlow error to
/// answer with; no other exception escapes.
/// </summary>
public static class OfpDecoder
{
    public const int HeaderSize = 8;

    /// <param name="flowModTableId">NXT_FLOW_MOD_TABLE_ID is on: OpenFlow 1.0 flow_mods carry the table in the command's high byte.</param>
    /// <exception cref="OfpException">The message is malformed or asks for something this switch does not do.</exception>
    public static OfpMessage Decode(ReadOnlySpan<byte> message, bool flowModTableId = false)
    {
        try
        {
            return DecodeCore(message, flowModTableId);
        }
        catch (OfpException)
        {
            throw;
        }
        catch (Exception e) when (e is ArgumentException or OverflowException or FormatException or IndexOutOfRangeException or InvalidOperationException)
        {
            // A defect of the decoder must still not take the connection's owner down: the peer gets an error.
            throw new OfpException(OfpErrorKind.BadRequestLength, "malformed message: " + e.Message);
        }
    }

    private static OfpMessage DecodeCore(ReadOnlySpan<byte> message, bool flowModTableId)
    {
        var r = new OfpReader(message);
        byte version = r.U8();
        byte type = r.U8();
        ushort length = r.U16();
        uint xid = r.U32();
        if (length != message.Length)
        {
            throw new OfpException(OfpErrorKind.BadRequestLength, $"header says {length} bytes, message has {message.Length}");
        }

        if (type == 0)
        {
            return Hello(ref r, xid, version);
        }

        if (!OfpVersion.IsSupported(version))
        {
            throw new OfpException(OfpErrorKind.BadRequestVersion, $"version 0x{version:x2} is not supported");
        }

        bool v10 = version == OfpVersion.Of10;
        switch (type)
        {
            case 1:
                return new ErrorMessage(xid, r.U16(), r.U16());
            case 2:
                return new EchoRequest(xid, r.Rest().ToArray());
            case 3:
                return new EchoReply(xid);
            case 4:
                return Experimenter(ref r, xid, version, flowModTableId);
            case 5:
                return new FeaturesRequest(xid);
            case 7:
                return new GetConfigRequest(xid);
            case 9:
                return new SetConfig(xid, r.U16(), r.U16());
            case 13:
                return PacketOutMessage(ref r, xid, version);
            case 14:
                return v10 ? FlowMod10(ref r, xid, flowModTableId) : FlowMod11(ref r, xid, version);
            case 16 when v10:
                return Stats(ref r, xid, version);
            case 18 when v10:
                return new BarrierRequest(xid);
            case 18:
                return Stats(ref r, xid, version);
            case 20 when !v10:
                return new BarrierRequest(xid);
            case 24 when version >= OfpVersion.Of12:
                {
                    uint role = r.U32();
                    r.Skip(4);
                    return new RoleRequest(xid, role, r.U64(), Nicira: false);
                }

            case 26 when version >= OfpVersion.Of13:
                return new GetAsyncRequest(xid);
            case 28 when version == OfpVersion.Of13:
                return new SetAsync(xid, [r.U32(), r.U32()], [r.U32(), r.U32()], [r.U32(), r.U32()]);
            case 15 when v10:
            case 16:
                throw new OfpException(OfpErrorKind.BadRequestType, "port_mod: port configuration is not supported");
            case 15:
                throw new OfpException(OfpErrorKind.BadRequestType, "group_mod: this switch has no groups");
            case 29 when version >= OfpVersion.Of13:
                throw new OfpException(OfpErrorKind.BadRequestType, "meter_mod: this switch has no meters");
            case 33 or 34 when version >= OfpVersion.Of14:
                throw new OfpException(OfpErrorKind.BadRequestType, "bundles are not supported");
            default:
                throw new OfpException(OfpErrorKind.BadRequestType, $"message type {type} of {OfpVersion.Name(version)} is not supported");
        }
    }

    private static HelloMessage Hello(ref OfpReader r, uint xid, byte version)
    {
        uint bitmap = 0;
        while (r.Remaining >= 4)
        {
            ushort type = r.U16();
            ushort length = r.U16();
            if (length < 4)
            {
                throw new OfpException(OfpErrorKind.BadRequestLength, $"hello element of length {length}");
            }

            var body = r.Sub(length - 4);
            if (type == 1 && length >= 8)
            {
                // Only the first 32 bits matter: versions above 31 do not exist.
                bitmap |= body.U32();
            }

            int padding = (8 - (length % 8)) % 8;
            r.Skip(Math.Min(padding, r.Remaining));
        }

        return new HelloMessage(xid, version, bitmap != 0 ? bitmap : version < 32 ? 1u << version : 0);
    }

    private static OfpMessage Experimenter(ref OfpReader r, uint xid, byte version, bool flowModTableId)
    {
        uint vendor = r.U32();
        if (vendor != Nicira.VendorId)
        {
            throw new OfpException(OfpErrorKind.BadRequestExperimenter, $"experimenter 0x{vendor:x8} is not supported");
        }

        uint subtype = r.U32();
        switch (subtype)
        {
            case Nicira.SetFlowFormat:
                return new SetFlowFormat(xid, r.U32());
            case Nicira.FlowModTableId:
                return new FlowModTableId(xid, r.U8() != 0);
            case Nicira.SetPacketInFormat:
                return new SetPacketInFormat(xid, r.U32());
            case Nicira.SetControllerId:
                r.Skip(6);
                return new SetControllerId(xid, r.U16());
            case Nicira.RoleRequest:
                {
                    // NX_ROLE_OTHER/MASTER/SLAVE (0, 1, 2) in OpenFlow 1.2's numbering (1, 2, 3).
                    uint role = r.U32();
                    return role <= 2 ? new RoleRequest(xid, role + 1, 0, Nicira: true) : throw new OfpException(OfpErrorKind.RoleRequestBadRole, $"unknown role {role}");
                }

            case Nicira.SetAsyncConfig:
                return new SetAsync(xid, [r.U32(), r.U32()], [r.U32(), r.U32()], [r.U32(), r.U32()]);
            case Nicira.FlowMod:
                return NxFlowMod(ref r, xid, version, flowModTableId);
            default:
                throw new OfpException(OfpErrorKind.BadRequestSubtype, $"Nicira message subtype {subtype} is not supported");
        }
    }

    private static FlowMod FlowMod10(ref OfpReader r, uint xid, bool tableId)
    {
        var match = Of10Match.Decode(r.Bytes(Of10Match.Size));
        ulong cookie = r.U64();
        ushort command = r.U16();
        ushort idle = r.U16();
        ushort hard = r.U16();
        ushort priority = r.U16();
        uint buffer = r.U32();
        uint outPort = OfpPort.From10(r.U16());
        ushort flags = r.U16();
        byte table = tableId ? (byte)(command >> 8) : (byte)255;
        var cmd = Command((byte)command, tableId ? 0 : command >> 8);
        var actions = ActionDecoder.DecodeActions(r.Rest(), OfpVersion.Of10, match, table == 255 ? (byte)0 : table);
        return new FlowMod(xid, cmd, table, priority, cookie, 0, idle, hard, buffer, outPort, OfpPort.Any, Flags10(flags), match, actions, OfpVersion.Of10);
    }

    private static FlowMod NxFlowMod(ref OfpReader r, uint xid, byte version, bool tableId)
    {
        ulong cookie = r.U64();
        ushort command = r.U16();
        ushort idle = r.U16();
        ushort hard = r.U16();
        ushort priority = r.U16();
        uint buffer = r.U32();
        uint outPort = OfpPort.From10(r.U16());
        ushort flags = r.U16();
        ushort matchLength = r.U16();
        r.Skip(6);
        var match = OxmCodec.Decode(r.Bytes(matchLength), out ulong matchCookie, out ulong cookieMask);
        r.Skip(Math.Min(r.Remaining, (8 - (matchLength % 8)) % 8));

        // As in OpenFlow 1.0's flow_mod, the command's high byte is the table only with NXT_FLOW_MOD_TABLE_ID on.
        byte table = tableId ? (byte)(command >> 8) : (byte)255;
        var cmd = Command((byte)command, tableId ? 0 : command >> 8);
        if (cmd is FlowModCommand.Add)
        {
            cookieMask = 0;
        }
        else
        {
            cookie = matchCookie;
        }

        var actions = ActionDecoder.DecodeActions(r.Rest(), OfpVersion.Of10, match, table == 255 ? (byte)0 : table);
        return new FlowMod(xid, cmd, table, priority, cookie, cookieMask, idle, hard, buffer, outPort, OfpPort.Any, Flags10(flags), match, actions, version == OfpVersion.Of10 ? OfpVersion.Of10 : version);
    }

    private static FlowMod FlowMod11(ref OfpReader r, uint xid, byte version)
    {
        ulong cookie = r.U64();
        ulong cookieMask = r.U64();
        byte table = r.U8();
        var cmd = Command(r.U8(), 0);
        ushort idle = r.U16();
        ushort hard = r.U16();
        ushort priority = r.U16();
        uint buffer = r.U32();
        uint outPort = r.U32();
        uint outGroup = r.U32();
        ushort flags = r.U16();
        r.Skip(2);
        var match = Match11(ref r);
        if (table == 255 && cmd is FlowModCommand.Add or FlowModCommand.Modify or FlowModCommand.ModifyStrict)
        {
            throw new OfpException(OfpErrorKind.FlowModBadTableId, "table 255 (all) is only for delete");
        }

        if ((flags & ~0x1f) != 0)
        {
            throw new OfpException(OfpErrorKind.FlowModBadFlags, $"unknown flow_mod flags 0x{flags:x}");
        }

        var actions = ActionDecoder.DecodeInstructions(r.Rest(), version, match, table == 255 ? (byte)0 : table);
        return new FlowMod(xid, cmd, table, priority, cookie, cookieMask, idle, hard, buffer, outPort, outGroup, (FlowModFlags)flags, match, actions, version);
    }

    /// <summary>An OpenFlow 1.1+ ofp_match: OXM only (type 1), length, fields, padding to 8.</summary>
    private static OfMatch Match11(ref OfpReader r)
    {
        ushort type = r.U16();
        ushort length = r.U16();
        if (type != 1)
        {
            throw new OfpException(OfpErrorKind.BadMatchType, $"match type {type} is not supported (only OXM)");
        }

        if (length < 4)
        {
            throw new OfpException(OfpErrorKind.BadMatchLength, $"match length {length}");
        }

        var fields = r.Bytes(length - 4);
        r.Skip(Math.Min(r.Remaining, (8 - (length % 8)) % 8));
        var match = OxmCodec.Decode(fields, out _, out ulong cookieMask);
        if (cookieMask != 0)
        {
            throw new OfpException(OfpErrorKind.BadMatchField, "NXM_NX_COOKIE is not a match field in OpenFlow 1.1+");
        }

        return match;
    }

    private static FlowModCommand Command(byte command, int high)
    {
        if (command > 4 || high != 0)
        {
            throw new OfpException(OfpErrorKind.FlowModBadCommand, $"flow_mod command 0x{(high << 8) | command:x}");
        }

        return (FlowModCommand)command;
    }

    private static FlowModFlags Flags10(ushort flags)
    {
        if ((flags & 4) != 0)
        {
            throw new OfpException(OfpErrorKind.FlowModBadTimeout, "emergency flows are not supported");
        }

        if ((flags & ~3) != 0)
        {
            throw new OfpException(OfpErrorKind.FlowModBadFlags, $"unknown flow_mod flags 0x{flags:x}");
        }

        return (FlowModFlags)flags;
    }

    private static PacketOut PacketOutMessage(ref OfpReader r, uint xid, byte version)
    {
        uint buffer = r.U32();
        uint inPort;
        int actionsLength;
        if (version == OfpVersion.Of10)
        {
            inPort = OfpPort.From10(r.U16());
            actionsLength = r.U16();
        }
        else if (version < OfpVersion.Of15)
        {
            inPort = r.U32();
            actionsLength = r.U16();
            r.Skip(6);
        }
        else
        {
            actionsLength = r.U16();
            r.Skip(2);
            var match = Match11(ref r);
            inPort = match.Mask.Key.InPort != 0 ? match.Value.Key.InPort : OfpPort.Controller;
        }

        if (buffer != uint.MaxValue)
        {
            throw new OfpException(OfpErrorKind.BadRequestBufferUnknown, $"buffer {buffer}: this switch buffers no packets");
        }

        if (inPort is 0 || (inPort >= OfpPort.Max && inPort is not (OfpPort.Controller or OfpPort.Local or OfpPort.Any)))
        {
            throw new OfpException(OfpErrorKind.BadRequestPort, $"packet_out: in_port 0x{inPort:x} is not a port");
        }

        var inMatch = new OfFlow();
        var inMask = new OfFlow();
        var actions = ActionDecoder.DecodeActions(r.Bytes(actionsLength), version, new OfMatch(in inMatch, in inMask), 0, packetOut: true);
        byte[] frame = r.Rest().ToArray();
        if (frame.Length == 0)
        {
            throw new OfpException(OfpErrorKind.BadRequestPacket, "packet_out without a packet");
        }

        return new PacketOut(xid, buffer, inPort, actions, frame);
    }

    private static OfpMessage Stats(ref OfpReader r, uint xid, byte version)
    {
        bool v10 = version == OfpVersion.Of10;
        ushort type = r.U16();
        ushort flags = r.U16();
        if (!v10)
        {
            r.Skip(4);
        }

        if ((flags & 1) != 0)
        {
            throw new OfpException(OfpErrorKind.BadRequestMultipart, "multipart requests in several parts are not supported");
        }

        switch (type)
        {
            case 0:
                return new SimpleStatsRequest(xid, StatsKind.Description);
            case 1 or 2 when v10:
                {
                    var match = Of10Match.Decode(r.Bytes(Of10Match.Size));
                    byte table = r.U8();
                    r.Skip(1);
                    uint outPort = OfpPort.From10(r.U16());
                    return new FlowStatsRequest(xid, type == 2, false, table, outPort, 0, 0, match);
                }

            case 1 or 2:
                {
                    byte table = r.U8();
                    r.Skip(3);
                    uint outPort = r.U32();
                    r.Skip(8);
                    ulong cookie = r.U64();
                    ulong cookieMask = r.U64();
                    var match = Match11(ref r);
                    return new FlowStatsRequest(xid, type == 2, false, table, outPort, cookie, cookieMask, match);
                }

            case 3:
                return new SimpleStatsRequest(xid, StatsKind.Table);
            case 4:
                return new PortStatsRequest(xid, v10 ? OfpPort.From10(r.U16()) : r.U32());
            case 12 when version >= OfpVersion.Of13:
                return new SimpleStatsRequest(xid, StatsKind.TableFeatures);
            case 13:
                return new SimpleStatsRequest(xid, StatsKind.PortDescription);
            case 0xffff:
                return VendorStats(ref r, xid, version);
            default:
                throw new OfpException(OfpErrorKind.BadRequestMultipart, $"statistics type {type} is not supported");
        }
    }

    private static FlowStatsRequest VendorStats(ref OfpReader r, uint xid, byte version)
    {
        uint vendor = r.U32();
        if (vendor != Nicira.VendorId)
        {
            throw new OfpException(OfpErrorKind.BadRequestExperimenter, $"statistics of experimenter 0x{vendor:x8} are not supported");
        }

        uint subtype = r.U32();
        if (version == OfpVersion.Of10)
        {
            r.Skip(4);
        }

        if (subtype is not (Nicira.StatsFlow or Nicira.StatsAggregate))
        {
            throw new OfpException(OfpErrorKind.BadRequestSubtype, $"Nicira statistics subtype {subtype} is not supported");
        }

        uint outPort = OfpPort.From10(r.U16());
        ushort matchLength = r.U16();
        byte table = r.U8();
        r.Skip(3);
        var match = OxmCodec.Decode(r.Bytes(matchLength), out ulong cookie, out ulong cookieMask);
        return new FlowStatsRequest(xid, subtype == Nicira.StatsAggregate, true, table, outPort, cookie, cookieMask, match);
    }
}
