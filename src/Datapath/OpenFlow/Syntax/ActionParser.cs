using System.Globalization;
using Datapath.Flow;

namespace Datapath.OpenFlow.Syntax;

/// <summary>
/// Parses an ovs-ofctl action list (Open vSwitch's ofpacts_parse, lib/ofp-actions.c) and checks
/// each action against the rule's match (ofpacts_check: prerequisites, goto_table direction).
/// Offsets in errors are 0-based positions in the whole line. Cold path.
/// </summary>
internal static class ActionParser
{
    public static IReadOnlyList<OfAction> Parse(string line, int start, int end, OfMatch match, byte table)
    {
        var actions = new List<OfAction>();
        var parts = Split(line, start, end);
        if (parts.Count == 0)
        {
            throw new LineSyntaxException(start, "expected at least one action after actions= (use actions=drop to drop)");
        }

        for (int i = 0; i < parts.Count; i++)
        {
            var (s, e) = parts[i];
            string name = ActionName(line, s, e, out int argStart, out int argEnd, out bool parenthesised);
            if (name.Equals("drop", StringComparison.OrdinalIgnoreCase))
            {
                if (parts.Count != 1)
                {
                    throw new LineSyntaxException(s, "\"drop\" must not be accompanied by any other action");
                }

                return [];
            }

            var action = ParseOne(line, name, s, argStart, argEnd, parenthesised, match, table);
            if (action is null)
            {
                continue;
            }

            if (action is GotoTableAction && i != parts.Count - 1)
            {
                throw new LineSyntaxException(s, "goto_table must be the last action");
            }

            if (actions.Count > 0 && actions[^1] is SetFieldOfAction { Spelling: SetFieldSpelling.WriteMetadata } && action is not GotoTableAction)
            {
                throw new LineSyntaxException(s, "write_metadata must come after every other action but goto_table (as an OpenFlow instruction)");
            }

            actions.Add(action);
        }

        return actions;
    }

    /// <summary>Splits at commas outside parentheses, checking that parentheses balance.</summary>
    internal static List<(int Start, int End)> Split(string line, int start, int end)
    {
        var parts = new List<(int, int)>();
        int depth = 0;
        int partStart = start;
        var opens = new Stack<int>();
        for (int i = start; i < end; i++)
        {
            char c = line[i];
            if (c == '(')
            {
                depth++;
                opens.Push(i);
            }
            else if (c == ')')
            {
                if (depth == 0)
                {
                    throw new LineSyntaxException(i, "unbalanced parentheses: ')' without '('");
                }

                depth--;
                opens.Pop();
            }
            else if (c == ',' && depth == 0)
            {
                AddPart(parts, line, partStart, i);
                partStart = i + 1;
            }
        }

        if (depth != 0)
        {
            throw new LineSyntaxException(opens.Peek(), "unbalanced parentheses: '(' is never closed");
        }

        AddPart(parts, line, partStart, end);
        return parts;
    }

    private static void AddPart(List<(int, int)> parts, string line, int s, int e)
    {
        while (s < e && char.IsWhiteSpace(line[s]))
        {
            s++;
        }

        while (e > s && char.IsWhiteSpace(line[e - 1]))
        {
            e--;
        }

        if (s == e)
        {
            throw new LineSyntaxException(s, "empty action (two commas in a row?)");
        }

        parts.Add((s, e));
    }

    private static string ActionName(string line, int s, int e, out int argStart, out int argEnd, out bool parenthesised)
    {
        int i = s;
        while (i < e && line[i] is not (':' or '=' or '('))
        {
            i++;
        }

        string name = line[s..i];
        parenthesised = i < e && line[i] == '(';
        if (i == e)
        {
            argStart = argEnd = e;
        }
        else if (parenthesised)
        {
            if (line[e - 1] != ')')
            {
                throw new LineSyntaxException(e - 1, $"{name}: unexpected text after ')'");
            }

            argStart = i + 1;
            argEnd = e - 1;
        }
        else
        {
            argStart = i + 1;
            argEnd = e;
        }

        return name;
    }

    private static OfAction? ParseOne(string line, string name, int s, int a, int b, bool parenthesised, OfMatch match, byte table)
    {
        string arg = line[a..b];
        bool hasArg = a < b || parenthesised;
        switch (name.ToLowerInvariant())
        {
            case "output":
                if (!hasArg || arg.Length == 0)
                {
                    throw new LineSyntaxException(s, "output: missing port (output:N)");
                }

                return Port(arg, a);
            case "in_port":
                return new ReservedOutputAction(ReservedPort.InPort);
            case "normal":
                return new ReservedOutputAction(ReservedPort.Normal);
            case "flood":
                return new ReservedOutputAction(ReservedPort.Flood);
            case "all":
                return new ReservedOutputAction(ReservedPort.All);
            case "controller":
                return Controller(line, arg, a, b, parenthesised);
            case "move":
                return Move(arg, a, s, match);
            case "exit":
                return new ExitAction();
            case "mod_nw_ttl":
                {
                    CheckWritable(OfFields.NwTtl, s, match, insideCt: false, "mod_nw_ttl");
                    UInt128 ttl = FieldText.ParseInteger(arg, a, "mod_nw_ttl");
                    return ttl <= 255
                        ? new SetFieldOfAction(OfFields.NwTtl, ttl, OfFields.NwTtl.AllOnes, SetFieldSpelling.ModNwTtl)
                        : throw new LineSyntaxException(a, $"mod_nw_ttl:{arg} out of range (0..255)");
                }

            case "mod_vlan_pcp":
                {
                    UInt128 pcp = FieldText.ParseInteger(arg, a, "mod_vlan_pcp");
                    return pcp <= 7 ? new ModVlanPcpAction((byte)pcp) : throw new LineSyntaxException(a, $"mod_vlan_pcp:{arg} out of range (0..7)");
                }

            case "write_metadata":
                {
                    var (value, mask) = FieldText.ParseMasked(OfFields.Metadata, arg, a);
                    return new SetFieldOfAction(OfFields.Metadata, value & mask, mask, SetFieldSpelling.WriteMetadata);
                }

            case "local":
                throw new LineSyntaxException(s, "action 'local' is not supported: this bridge has no LOCAL port");
            case "enqueue" or "set_queue" or "pop_queue":
                throw new LineSyntaxException(s, $"action '{name}' is not supported: this switch has no queues");
            case "group":
                throw new LineSyntaxException(s, "action 'group' is not supported: this switch has no groups");
            case "meter":
                throw new LineSyntaxException(s, "action 'meter' is not supported: this switch has no meters");
            case "write_actions" or "clear_actions":
                throw new LineSyntaxException(s, $"action '{name}' is not supported: this switch has no action sets");
            case "conjunction":
                throw new LineSyntaxException(s, "action 'conjunction' is not supported: this switch has no conjunctive matches");
            case "push_mpls" or "pop_mpls" or "set_mpls_label" or "set_mpls_tc" or "set_mpls_ttl" or "dec_mpls_ttl":
                throw new LineSyntaxException(s, $"action '{name}' is not supported: this switch has no MPLS");
            case "set_tunnel" or "set_tunnel64":
                throw new LineSyntaxException(s, $"action '{name}' is not supported: this switch has no tunnel ports");
            case "learn" or "multipath" or "bundle" or "bundle_load" or "clone" or "sample" or "fin_timeout" or "push" or "pop" or "check_pkt_larger" or "output_trunc" or "encap" or "decap" or "dec_nsh_ttl" or "delete_field":
                throw new LineSyntaxException(s, $"action '{name}' is not supported by this switch");
            case "resubmit":
                return Resubmit(line, arg, a, parenthesised, s);
            case "goto_table":
                {
                    byte t = Table(arg, a, "goto_table");
                    if (t <= table)
                    {
                        throw new LineSyntaxException(a, $"goto_table:{t} must go to a later table than the rule's table {table}");
                    }

                    return new GotoTableAction(t);
                }

            case "ct":
                return Conntrack(line, a, b, s, match);
            case "ct_clear":
                return new CtClearAction();
            case "set_field":
                return SetField(arg, a, s, match, insideCt: false);
            case "load":
                return Load(arg, a, s, match, insideCt: false);
            case "mod_dl_src":
                return Mod(OfFields.EthSrc, arg, a, s, match, SetFieldSpelling.ModDlSrc);
            case "mod_dl_dst":
                return Mod(OfFields.EthDst, arg, a, s, match, SetFieldSpelling.ModDlDst);
            case "mod_nw_src":
                return Mod(OfFields.Ipv4Src, arg, a, s, match, SetFieldSpelling.ModNwSrc);
            case "mod_nw_dst":
                return Mod(OfFields.Ipv4Dst, arg, a, s, match, SetFieldSpelling.ModNwDst);
            case "mod_nw_tos":
                {
                    var action = Mod(OfFields.NwTos, arg, a, s, match, SetFieldSpelling.ModNwTos);
                    if ((action.Value & 0x03) != 0)
                    {
                        throw new LineSyntaxException(a, $"mod_nw_tos:{arg}: the two ECN bits must be zero");
                    }

                    return action with { Mask = 0xfc };
                }

            case "mod_tp_src":
                return Mod(OfFields.TpSrc, arg, a, s, match, SetFieldSpelling.ModTpSrc);
            case "mod_tp_dst":
                return Mod(OfFields.TpDst, arg, a, s, match, SetFieldSpelling.ModTpDst);
            case "dec_ttl":
                if (hasArg)
                {
                    throw new LineSyntaxException(a, "dec_ttl with controller ids is not supported");
                }

                return new DecTtlAction();
            case "push_vlan":
                {
                    UInt128 tpid = FieldText.ParseInteger(arg, a, "push_vlan");
                    if (tpid != EtherTypes.Vlan8021Q && tpid != EtherTypes.Vlan8021AD)
                    {
                        throw new LineSyntaxException(a, $"push_vlan:{arg}: expected ethertype 0x8100 or 0x88a8");
                    }

                    return new PushVlanAction((ushort)tpid);
                }

            case "pop_vlan":
                return new PopVlanAction(false);
            case "strip_vlan":
                return new PopVlanAction(true);
            case "mod_vlan_vid":
                {
                    UInt128 vid = FieldText.ParseInteger(arg, a, "mod_vlan_vid");
                    if (vid > 4095)
                    {
                        throw new LineSyntaxException(a, $"mod_vlan_vid:{arg} out of range (0..4095)");
                    }

                    return new ModVlanVidAction((ushort)vid);
                }

            case "note":
                return Note(arg, a);
            default:
                if (name.Length > 0 && name.All(char.IsAsciiDigit) && !hasArg)
                {
                    return Port(name, s);
                }

                throw new LineSyntaxException(s, $"unknown action '{name}'");
        }
    }

    private static OfAction Port(string text, int offset)
    {
        switch (text.ToLowerInvariant())
        {
            case "in_port":
                return new ReservedOutputAction(ReservedPort.InPort);
            case "normal":
                return new ReservedOutputAction(ReservedPort.Normal);
            case "flood":
                return new ReservedOutputAction(ReservedPort.Flood);
            case "all":
                return new ReservedOutputAction(ReservedPort.All);
            case "controller":
                return new ControllerAction(ControllerAction.WholePacket, Wire.PacketInReason.Action, 0);
            case "local":
                throw new LineSyntaxException(offset, "output: this bridge has no LOCAL port");
        }

        if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out uint port) || port == 0 || port >= 0xff00)
        {
            throw new LineSyntaxException(offset, $"output: expected a port number 1..65279 or IN_PORT, NORMAL, FLOOD, ALL; got '{text}'");
        }

        return new OutputAction(port);
    }

    private static byte Table(string text, int offset, string what)
    {
        if (text.Length == 0)
        {
            throw new LineSyntaxException(offset, $"{what}: missing table number");
        }

        UInt128 t = FieldText.ParseInteger(text, offset, what);
        if (t > FlowEntry.MaxTable)
        {
            throw new LineSyntaxException(offset, $"{what}: table {text} out of range (0..{FlowEntry.MaxTable})");
        }

        return (byte)t;
    }

    private static ResubmitAction Resubmit(string line, string arg, int a, bool parenthesised, int s)
    {
        if (!parenthesised)
        {
            if (arg.Length == 0)
            {
                throw new LineSyntaxException(s, "resubmit: expected resubmit:PORT, resubmit(PORT,TABLE) or resubmit(,TABLE)");
            }

            // As in Open vSwitch, resubmit:in_port names neither a port nor a table; it would print as resubmit(,), which no parser takes back.
            return ResubmitPort(arg, a) is { } only
                ? new ResubmitAction(only, null)
                : throw new LineSyntaxException(a, "resubmit: at least one of port and table must be given (in_port alone is neither)");
        }

        string[] fields = arg.Split(',');
        if (fields.Length > 2)
        {
            throw new LineSyntaxException(a, "resubmit: expected at most PORT,TABLE (the ct form is not supported)");
        }

        string portText = fields[0].Trim();
        string tableText = fields.Length > 1 ? fields[1].Trim() : string.Empty;
        if (portText.Length == 0 && tableText.Length == 0)
        {
            throw new LineSyntaxException(a, "resubmit: at least one of port and table must be given");
        }

        uint? port = portText.Length == 0 ? null : ResubmitPort(portText, a);
        byte? table = tableText.Length == 0 ? null : Table(tableText, a + fields[0].Length + 1, "resubmit");
        if (port is null && table is null)
        {
            throw new LineSyntaxException(a, "resubmit: at least one of port and table must be given (in_port alone is neither)");
        }

        _ = line;
        return new ResubmitAction(port, table);
    }

    private static uint? ResubmitPort(string text, int offset)
    {
        if (text.Equals("in_port", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out uint port) || port == 0 || port >= 0xff00)
        {
            throw new LineSyntaxException(offset, $"resubmit: expected a port number or in_port, got '{text}'");
        }

        return port;
    }

    private static ConntrackAction Conntrack(string line, int a, int b, int s, OfMatch match)
    {
        if (!Prerequisites.Satisfied(FieldPrerequisite.IpAny, in match.Value, in match.Mask))
        {
            throw new LineSyntaxException(s, "ct: the rule must match ip or ipv6 (conntrack needs an IP packet)");
        }

        bool commit = false;
        ushort zone = 0;
        Subfield? zoneSource = null;
        byte? table = null;
        Actions.NatArgs? nat = null;
        string? timeout = null;
        IReadOnlyList<SetFieldOfAction> exec = [];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (ps, pe) in a < b ? Split(line, a, b) : [])
        {
            string name = ActionName(line, ps, pe, out int va, out int vb, out bool parenthesised);
            string value = line[va..vb];

            // A second zone=, table=, nat, timeout= or exec() would replace the first one silently
            // (zone=NXM_NX_REG0[0..15],zone=2 even kept the register and dropped the 2).
            if (name is "zone" or "table" or "nat" or "timeout" or "exec" && !seen.Add(name))
            {
                throw new LineSyntaxException(ps, $"ct: {name} given twice");
            }

            switch (name)
            {
                case "commit":
                    commit = true;
                    break;
                case "zone":
                    if (value.StartsWith("NXM_", StringComparison.Ordinal) || value.StartsWith("OXM_", StringComparison.Ordinal))
                    {
                        zoneSource = ParseSubfield(value, va);
                        if (zoneSource.Bits != 16)
                        {
                            throw new LineSyntaxException(va, $"ct: zone={value} must be 16 bits wide");
                        }
                    }
                    else
                    {
                        UInt128 z = FieldText.ParseInteger(value, va, "ct zone");
                        if (z > ushort.MaxValue)
                        {
                            throw new LineSyntaxException(va, $"ct: zone {value} out of range (0..65535)");
                        }

                        zone = (ushort)z;
                    }

                    break;
                case "table":
                    table = Table(value, va, "ct");
                    break;
                case "exec":
                    if (!parenthesised)
                    {
                        throw new LineSyntaxException(ps, "ct: expected exec(ACTIONS)");
                    }

                    exec = Exec(line, va, vb, match);
                    break;
                case "nat":
                    // nat(ARGS), nat:ARGS and nat=ARGS alike, as ofputil_parse_key_value reads them; dropping ARGS would lose the range.
                    nat = NatSyntax.Parse(value, va);
                    CheckNatFamily(nat, ps, match);
                    break;
                case "timeout":
                    if (value.Length == 0)
                    {
                        throw new LineSyntaxException(ps, "ct: timeout= needs a policy name");
                    }

                    timeout = value;
                    break;
                default:
                    throw new LineSyntaxException(ps, $"ct: unknown argument '{name}' (expected commit, zone=, table=, nat, timeout=, exec())");
            }
        }

        if (exec.Count > 0 && !commit)
        {
            throw new LineSyntaxException(s, "ct: exec() sets ct_mark or ct_label, which needs commit");
        }

        return new ConntrackAction(commit, zone, zoneSource, table, exec) { Nat = nat, Timeout = timeout };
    }

    /// <summary>check_NAT: an address range must be of the family the rule matches.</summary>
    private static void CheckNatFamily(Actions.NatArgs nat, int offset, OfMatch match)
    {
        if (!nat.HasAddress)
        {
            return;
        }

        var family = nat.IsIpv6 ? FieldPrerequisite.Ipv6 : FieldPrerequisite.Ipv4;
        if (!Prerequisites.Satisfied(family, in match.Value, in match.Mask))
        {
            throw new LineSyntaxException(offset, $"ct: nat with an {(nat.IsIpv6 ? "IPv6" : "IPv4")} range needs a rule that matches {(nat.IsIpv6 ? "ipv6" : "ip")}");
        }
    }

    private static List<SetFieldOfAction> Exec(string line, int a, int b, OfMatch match)
    {
        var list = new List<SetFieldOfAction>();
        if (a >= b)
        {
            return list;
        }

        foreach (var (ps, pe) in Split(line, a, b))
        {
            string name = ActionName(line, ps, pe, out int va, out int vb, out _);
            string value = line[va..vb];
            OfAction action = name switch
            {
                "set_field" => SetField(value, va, ps, match, insideCt: true),
                "load" => Load(value, va, ps, match, insideCt: true),
                "nat" => throw new LineSyntaxException(ps, "ct: nat is an argument of ct, not an action of exec()"),
                _ => throw new LineSyntaxException(ps, $"ct: exec() allows only set_field or load to ct_mark or ct_label, not '{name}'"),
            };
            if (action is not SetFieldOfAction { Field.ConntrackOnly: true } set)
            {
                throw new LineSyntaxException(ps, $"ct: exec() may only set ct_mark or ct_label, not {(action is SetFieldOfAction other ? other.Field.Name : ActionFormatter.Format([action]))}");
            }

            list.Add(set);
        }

        return list;
    }

    private static OfAction SetField(string arg, int a, int s, OfMatch match, bool insideCt)
    {
        int arrow = arg.IndexOf("->", StringComparison.Ordinal);
        if (arrow < 0)
        {
            throw new LineSyntaxException(s, "set_field: expected set_field:VALUE->FIELD");
        }

        string fieldName = arg[(arrow + 2)..];
        var field = OfFields.Find(fieldName);
        if (field is null)
        {
            throw new LineSyntaxException(a + arrow + 2, OfFields.WhyUnsupported(fieldName) is { } why
                ? $"set_field: field '{fieldName}' is not supported: {why}"
                : $"set_field: unknown field '{fieldName}'");
        }

        if (field == OfFields.VlanVid || field == OfFields.VlanPcp)
        {
            return SetVlan(field, arg[..arrow], a);
        }

        CheckWritable(field, a + arrow + 2, match, insideCt, "set_field");
        var (value, mask) = FieldText.ParseMasked(field, arg[..arrow], a);
        if (field == OfFields.NwTos)
        {
            mask = 0xfc;
        }

        return new SetFieldOfAction(field, value & mask, mask, SetFieldSpelling.SetField);
    }

    /// <summary>set_field to vlan_vid (with OFPVID_PRESENT, 0x1000) or vlan_pcp: changes a tag the packet has, pushes none.</summary>
    private static OfAction SetVlan(OfField field, string text, int a)
    {
        UInt128 v = FieldText.ParseValue(field, text, a);
        if (field == OfFields.VlanPcp)
        {
            return new ModVlanPcpAction((byte)v, PushIfNeeded: false);
        }

        return (v & FlowKey.VlanPresent) != 0
            ? new ModVlanVidAction((ushort)(v & 0x0fff), PushIfNeeded: false)
            : throw new LineSyntaxException(a, $"set_field:{text}->vlan_vid: the value needs the present bit 0x1000 (e.g. {(v | FlowKey.VlanPresent).ToString(CultureInfo.InvariantCulture)} for VID {v})");
    }

    /// <summary>controller, controller:MAX_LEN, or controller(reason=R,max_len=N,id=I) (ovs-actions(7)).</summary>
    private static ControllerAction Controller(string line, string arg, int a, int b, bool parenthesised)
    {
        if (!parenthesised)
        {
            if (arg.Length == 0)
            {
                return new ControllerAction(ControllerAction.WholePacket, Wire.PacketInReason.Action, 0);
            }

            UInt128 maxLength = FieldText.ParseInteger(arg, a, "controller");
            return maxLength <= ushort.MaxValue
                ? new ControllerAction((ushort)maxLength, Wire.PacketInReason.Action, 0)
                : throw new LineSyntaxException(a, $"controller:{arg}: max_len out of range (0..65535)");
        }

        ushort max = ControllerAction.WholePacket;
        var reason = Wire.PacketInReason.Action;
        ushort id = 0;
        foreach (var (ps, pe) in a < b ? Split(line, a, b) : [])
        {
            string name = ActionName(line, ps, pe, out int va, out int vb, out _);
            string value = line[va..vb];
            switch (name)
            {
                case "max_len":
                    {
                        UInt128 v = FieldText.ParseInteger(value, va, "controller max_len");
                        max = v <= ushort.MaxValue ? (ushort)v : throw new LineSyntaxException(va, "controller: max_len out of range (0..65535)");
                        break;
                    }

                case "id":
                    {
                        UInt128 v = FieldText.ParseInteger(value, va, "controller id");
                        id = v <= ushort.MaxValue ? (ushort)v : throw new LineSyntaxException(va, "controller: id out of range (0..65535)");
                        break;
                    }

                case "reason":
                    reason = value switch
                    {
                        "no_match" => Wire.PacketInReason.NoMatch,
                        "action" => Wire.PacketInReason.Action,
                        "invalid_ttl" => Wire.PacketInReason.InvalidTtl,
                        "action_set" => Wire.PacketInReason.ActionSet,
                        "group" => Wire.PacketInReason.Group,
                        "packet_out" => Wire.PacketInReason.PacketOut,
                        _ => throw new LineSyntaxException(va, $"controller: unknown reason '{value}' (no_match, action, invalid_ttl, action_set, group, packet_out)"),
                    };
                    break;
                case "userdata" or "pause" or "meter_id":
                    throw new LineSyntaxException(ps, $"controller: {name} is not supported by this switch");
                default:
                    throw new LineSyntaxException(ps, $"controller: unknown argument '{name}' (expected reason=, max_len=, id=)");
            }
        }

        return new ControllerAction(max, reason, id);
    }

    /// <summary>move:SRC[a..b]->DST[c..d]: both subfields the same width; the destination writable.</summary>
    private static MoveAction Move(string arg, int a, int s, OfMatch match)
    {
        int arrow = arg.IndexOf("->", StringComparison.Ordinal);
        if (arrow < 0)
        {
            throw new LineSyntaxException(s, "move: expected move:SRC[START..END]->DST[START..END]");
        }

        var src = ParseSubfield(arg[..arrow], a);
        var dst = ParseSubfield(arg[(arrow + 2)..], a + arrow + 2);
        if (src.Bits != dst.Bits)
        {
            throw new LineSyntaxException(a, $"move: source is {src.Bits} bits wide, destination {dst.Bits}");
        }

        if (!Prerequisites.Satisfied(src.Field.Prerequisite, in match.Value, in match.Mask))
        {
            throw new LineSyntaxException(a, $"move: reading {src.Field.Name} needs {Prerequisites.Describe(src.Field.Prerequisite)} in the match");
        }

        if (src.Field.ConntrackOnly || dst.Field.ConntrackOnly)
        {
            throw new LineSyntaxException(a, "move: ct_mark and ct_label are written only inside ct(commit,exec(...))");
        }

        CheckWritable(dst.Field, a + arrow + 2, match, insideCt: false, "move");
        return new MoveAction(src, dst);
    }

    private static SetFieldOfAction Load(string arg, int a, int s, OfMatch match, bool insideCt)
    {
        int arrow = arg.IndexOf("->", StringComparison.Ordinal);
        if (arrow < 0)
        {
            throw new LineSyntaxException(s, "load: expected load:VALUE->DST[START..END]");
        }

        var dst = ParseSubfield(arg[(arrow + 2)..], a + arrow + 2);
        CheckWritable(dst.Field, a + arrow + 2, match, insideCt, "load");
        UInt128 value = FieldText.ParseInteger(arg[..arrow], a, "load");
        UInt128 limit = dst.Bits >= 128 ? UInt128.MaxValue : (UInt128.One << dst.Bits) - 1;
        if (value > limit)
        {
            throw new LineSyntaxException(a, $"load: value {arg[..arrow]} does not fit in {dst.Bits} bits");
        }

        return new SetFieldOfAction(dst.Field, value << dst.Offset, dst.Mask, SetFieldSpelling.Load);
    }

    private static SetFieldOfAction Mod(OfField field, string arg, int a, int s, OfMatch match, SetFieldSpelling spelling)
    {
        if (arg.Length == 0)
        {
            throw new LineSyntaxException(s, "missing value after ':'");
        }

        CheckWritable(field, s, match, insideCt: false, "mod");
        UInt128 value = FieldText.ParseValue(field, arg, a);
        return new SetFieldOfAction(field, value, field.AllOnes, spelling);
    }

    private static void CheckWritable(OfField field, int offset, OfMatch match, bool insideCt, string what)
    {
        if (!field.Writable)
        {
            throw new LineSyntaxException(offset, $"{what}: field {field.Name} is not writable");
        }

        if (field.ConntrackOnly && !insideCt)
        {
            throw new LineSyntaxException(offset, $"{what}: {field.Name} may only be set inside ct(commit,exec(...))");
        }

        if (!Prerequisites.Satisfied(field.Prerequisite, in match.Value, in match.Mask))
        {
            throw new LineSyntaxException(offset, $"{what}: writing {field.Name} needs {Prerequisites.Describe(field.Prerequisite)} in the match");
        }
    }

    /// <summary>NAME[], NAME[N] or NAME[START..END] (mf_parse_subfield).</summary>
    internal static Subfield ParseSubfield(string text, int offset)
    {
        int bracket = text.IndexOf('[', StringComparison.Ordinal);
        if (bracket < 0 || !text.EndsWith(']'))
        {
            throw new LineSyntaxException(offset, $"expected a subfield NAME[START..END], got '{text}'");
        }

        string name = text[..bracket];
        var field = OfFields.FindNxm(name) ?? OfFields.Find(name) ?? throw new LineSyntaxException(offset, OfFields.WhyUnsupported(name) is { } why
            ? $"field '{name}' is not supported: {why}"
            : $"unknown field '{name}' (expected a field such as reg0 or NXM_NX_REG0)");
        string range = text[(bracket + 1)..^1];
        int start;
        int endBit;
        if (range.Length == 0)
        {
            start = 0;
            endBit = field.Width - 1;
        }
        else
        {
            int dots = range.IndexOf("..", StringComparison.Ordinal);
            bool ok;
            if (dots < 0)
            {
                ok = int.TryParse(range, NumberStyles.None, CultureInfo.InvariantCulture, out start);
                endBit = start;
            }
            else
            {
                ok = int.TryParse(range[..dots], NumberStyles.None, CultureInfo.InvariantCulture, out start)
                    & int.TryParse(range[(dots + 2)..], NumberStyles.None, CultureInfo.InvariantCulture, out endBit);
            }

            if (!ok || endBit < start || endBit >= field.Width)
            {
                throw new LineSyntaxException(offset + bracket, $"bad bit range [{range}] for {name} ({field.Width} bits wide)");
            }
        }

        return new Subfield(field, start, endBit - start + 1);
    }

    private static NoteAction Note(string arg, int a)
    {
        var bytes = new List<string>();
        string digits = arg.Replace(".", string.Empty, StringComparison.Ordinal);
        if (digits.Length % 2 != 0 || !digits.All(char.IsAsciiHexDigit))
        {
            throw new LineSyntaxException(a, $"note: expected hex bytes such as 01.02.03, got '{arg}'");
        }

        for (int i = 0; i < digits.Length; i += 2)
        {
            bytes.Add(digits.Substring(i, 2).ToLowerInvariant());
        }

        return new NoteAction(string.Join('.', bytes));
    }
}
