using System.Globalization;
using System.Text;
using Datapath.Actions;
using Datapath.Flow;
using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Trace;

namespace Datapath.OpenFlow.Translation;

/// <summary>
/// One translation in progress (the analogue of Open vSwitch's struct xlate_ctx and
/// do_xlate_actions). Created per upcall and thrown away; slow path.
/// </summary>
internal sealed class Xlate
{
    private const ulong MulticastBit = 0x0100_0000_0000UL;

    private readonly Translator _owner;
    private readonly TraceRecorder? _trace;
    private readonly FlowKey _key;
    private readonly List<DatapathAction> _actions = [];
    private readonly List<FlowRule> _rules = [];
    private OfFlow _flow;
    private FlowKey _wc;
    private PendingWrites _pending;
    private int _depth;
    private string? _error;
    private readonly bool _mayLearn;
    private bool _usedMacs;
    private bool _usedPorts;
    private bool _exited;
    private ulong _cookie = ulong.MaxValue;
    private bool _tableMiss;

    // Whether a miss in the table being looked up goes to the controllers (when they ask for misses):
    // a pass's first lookup and goto_table, not resubmit (Open vSwitch's honor_table_miss).
    private bool _honorMiss = true;

    /// <param name="mayLearn">False when no packet stands behind the key (revalidation): NORMAL then learns nothing.</param>
    public Xlate(Translator owner, in FlowKey key, TraceRecorder? trace, bool mayLearn = true)
    {
        _owner = owner;
        _mayLearn = mayLearn;
        _key = key;
        _trace = trace;
        _flow = new OfFlow(in key);
        _pending.Base = key;

        // xlate_wc_init: fields every translation is considered to have examined.
        _wc.RecircId = uint.MaxValue;
        _wc.InPort = uint.MaxValue;
        _wc.EthType = ushort.MaxValue;
        if (key.IsIpv4 || key.IsIpv6)
        {
            _wc.NwFrag = FlowKey.FragAny | FlowKey.FragLater;
        }
    }

    public TranslationResult Run()
    {
        byte table = 0;
        if (_key.RecircId != 0)
        {
            if (!_owner.Recirc.TryGet(_key.RecircId, out var state))
            {
                _error = string.Create(CultureInfo.InvariantCulture, $"recirculation id {_key.RecircId:x} is unknown (never allocated or already freed)");
                _trace?.Report(TraceNodeType.Error, _error);
                var failed = Finish(in _flow);
                return new TranslationResult(failed.Actions, failed.Mask, failed.Rules, _error, false, in _flow, in _flow, failed.TablesVersion, failed.MacGeneration)
                {
                    UnknownRecirculation = true,
                };
            }

            _flow.Regs = state.Registers;
            _flow.Metadata = state.Metadata;
            table = state.Table;
            if (_trace is not null)
            {
                var thaw = _trace.Report(TraceNodeType.Thaw, "thaw");
                thaw.Children.Add(new TraceNode(TraceNodeType.Thaw, "Resuming from table " + table.ToString(CultureInfo.InvariantCulture)));
            }
        }

        var initial = _flow;
        LookupAndExecute(table);
        if (_error is not null)
        {
            // A failed translation drops the packet, whatever it emitted before (xlate_actions).
            ReleaseRecircs();
            _actions.Clear();
        }

        return Finish(in initial);
    }

    /// <summary>packet_out: the given actions instead of a table lookup, as if in table 0 (Open vSwitch: no rule, cookie all ones).</summary>
    public TranslationResult RunActions(IReadOnlyList<OfAction> actions)
    {
        var initial = _flow;
        Execute(actions, 0);
        if (_error is not null)
        {
            ReleaseRecircs();
            _actions.Clear();
        }

        return Finish(in initial);
    }

    private TranslationResult Finish(in OfFlow initial) =>
        new(new ActionList(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_actions)), in _wc, _rules, _error, _usedMacs,
            in initial, in _flow, _owner.Tables.Version, _owner.Macs.Generation)
        {
            UsedPorts = _usedPorts,
        };

    private void ReleaseRecircs()
    {
        foreach (var a in _actions)
        {
            if (a.Kind == ActionKind.Recirculate)
            {
                _owner.Recirc.Release(a.RecircId);
            }
        }
    }

    /// <summary>Looks up <paramref name="tableId"/> and runs the winner's actions; a miss does nothing.</summary>
    private void LookupAndExecute(byte tableId)
    {
        var table = _owner.Tables[tableId];
        var rule = table?.Lookup(in _flow, ref _wc);
        var saved = _trace?.Current;
        if (_trace is not null)
        {
            var node = _trace.Report(TraceNodeType.Table, TableLine(tableId, rule));
            _trace.Current = node.Children;
        }

        if (rule is null)
        {
            if (_honorMiss && _owner.Tables.MissToController)
            {
                _trace?.Report(TraceNodeType.Action, "controller(reason=no_match)");
                var miss = new ControllerUserdata(Wire.PacketInReason.NoMatch, ControllerAction.WholePacket, 0, tableId, ulong.MaxValue, in _flow.Regs, _flow.Metadata, tableMiss: true);
                if (_owner.Controllers.Intern(miss) is { } number)
                {
                    Commit();
                    _actions.Add(DatapathAction.Userspace(number));
                }
            }
            else
            {
                _trace?.Report(TraceNodeType.Action, "drop");
            }
        }
        else
        {
            _rules.Add(rule);
            ulong savedCookie = _cookie;
            bool savedMiss = _tableMiss;
            _cookie = rule.Entry.Cookie;
            _tableMiss = rule.Entry.Priority == 0 && rule.Entry.Match.IsCatchAll;
            Execute(rule.Entry.Actions, tableId);
            _cookie = savedCookie;
            _tableMiss = savedMiss;
        }

        if (_trace is not null)
        {
            _trace.Current = saved!;
        }
    }

    private static string TableLine(byte tableId, FlowRule? rule)
    {
        var sb = new StringBuilder();
        sb.Append(tableId.ToString(CultureInfo.InvariantCulture).PadLeft(2)).Append(". ");
        if (rule is null)
        {
            return sb.Append("No match.").ToString();
        }

        var match = rule.Entry.Match;
        MatchFormatter.Append(sb, in match.Value, in match.Mask, FlowEntry.DefaultPriority, megaflow: false);
        if (sb[^1] != ' ')
        {
            sb.Append(", ");
        }

        sb.Append("priority ").Append(rule.Entry.Priority.ToString(CultureInfo.InvariantCulture));
        if (rule.Entry.Cookie != 0)
        {
            sb.Append(", cookie 0x").Append(rule.Entry.Cookie.ToString("x", CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    private void Execute(IReadOnlyList<OfAction> actions, byte tableId)
    {
        if (actions.Count == 0)
        {
            _trace?.Report(TraceNodeType.Action, "drop");
            return;
        }

        foreach (var action in actions)
        {
            if (_error is not null || _exited)
            {
                return;
            }

            if (_trace is not null)
            {
                var sb = new StringBuilder();
                ActionFormatter.Append(sb, action);
                _trace.Report(TraceNodeType.Action, sb.ToString());
            }

            if (!ExecuteOne(action, tableId))
            {
                return;
            }
        }
    }

    /// <returns>False when the rest of this action list must not run (dec_ttl expiry, goto_table).</returns>
    private bool ExecuteOne(OfAction action, byte tableId)
    {
        switch (action)
        {
            case OutputAction o:
                Output(o.Port);
                return true;
            case ReservedOutputAction { Port: ReservedPort.InPort }:
                Commit();
                _actions.Add(DatapathAction.Output(_flow.Key.InPort));
                return true;
            case ReservedOutputAction { Port: ReservedPort.Normal }:
                Normal();
                return true;
            case ReservedOutputAction { Port: ReservedPort.Table }:
                _honorMiss = true;
                Resubmit(null, 0);
                return true;
            case ControllerAction c:
                Controller(c, tableId);
                return true;
            case MoveAction m:
                Move(m);
                return true;
            case ExitAction:
                _exited = true;
                return false;
            case ModVlanPcpAction mp:
                ModVlanPcp(mp.Pcp, mp.PushIfNeeded);
                return true;
            case ReservedOutputAction:
                Flood();
                return true;
            case ResubmitAction r:
                _honorMiss = false;
                Resubmit(r.InPort, r.Table ?? tableId);
                return true;
            case GotoTableAction g:
                _honorMiss = true;
                Resubmit(null, g.Table);
                return false;
            case ConntrackAction ct:
                Conntrack(ct);
                return true;
            case CtClearAction:
                // compose_ct_clear_action: the packet forgets its fields, and so does later matching.
                _flow.ClearConntrack();
                _actions.Add(DatapathAction.CtClear());
                return true;
            case SetFieldOfAction s:
                SetField(s);
                return true;
            case DecTtlAction:
                return DecTtl();
            case PushVlanAction pv:
                PushVlan(pv.Tpid, (ushort)((_flow.Key.Vlan0Tci & FlowKey.VlanPresent) != 0 ? _flow.Key.Vlan0Tci : 0));
                return true;
            case PopVlanAction:
                PopVlan();
                return true;
            case ModVlanVidAction mv:
                ModVlanVid(mv.Vid, mv.PushIfNeeded);
                return true;
            default:
                return true; // note
        }
    }

    private void Commit() => _pending.Commit(in _flow.Key, ref _wc, _actions);

    private void Output(uint port)
    {
        if (port == _flow.Key.InPort)
        {
            _trace?.Report(TraceNodeType.Detail, "skipping output to input port");
            return;
        }

        Commit();
        _actions.Add(DatapathAction.Output(port));
    }

    private void Flood()
    {
        _usedPorts = true;
        Commit();
        foreach (uint port in _owner.Ports)
        {
            if (port != _flow.Key.InPort)
            {
                _actions.Add(DatapathAction.Output(port));
            }
        }
    }

    /// <summary>xlate_normal: learn the source, forward to the learned port of the destination or flood.</summary>
    private void Normal()
    {
        _usedMacs = true;
        _usedPorts = true;
        _wc.EthSrc = ulong.MaxValue;
        _wc.EthDst = ulong.MaxValue;
        _wc.Vlan0Tci |= 0x0fff | FlowKey.VlanPresent;
        uint inPort = _flow.Key.InPort;
        bool bridgePort = false;
        foreach (uint p in _owner.Ports)
        {
            bridgePort |= p == inPort;
        }

        if (!bridgePort)
        {
            _trace?.Report(TraceNodeType.Detail, "no input bundle, dropping");
            return;
        }

        ushort vlan = (_flow.Key.Vlan0Tci & FlowKey.VlanPresent) != 0 ? (ushort)(_flow.Key.Vlan0Tci & 0x0fff) : (ushort)0;
        ulong src = _flow.Key.EthSrc;
        ulong dst = _flow.Key.EthDst;
        if (_mayLearn && (src & MulticastBit) == 0 && _owner.Macs.Learn(vlan, src, inPort))
        {
            _trace?.Report(TraceNodeType.Detail, $"learned that {Mac(src)} is on port {inPort} in VLAN {vlan}");
        }

        if ((dst & MulticastBit) == 0 && _owner.Macs.TryLookup(vlan, dst, out uint port))
        {
            if (port == inPort)
            {
                _trace?.Report(TraceNodeType.Detail, "learned port is input port, dropping");
                return;
            }

            _trace?.Report(TraceNodeType.Detail, "forwarding to learned port");
            Commit();
            _actions.Add(DatapathAction.Output(port));
            return;
        }

        _trace?.Report(TraceNodeType.Detail, "no learned MAC for destination, flooding");
        Flood();
    }

    private static string Mac(ulong mac) => new StringBuilder().AppendMac(mac).ToString();

    private void Resubmit(uint? inPort, byte table)
    {
        if (_depth >= Translator.MaxResubmitDepth)
        {
            _error = $"resubmit depth exceeded ({Translator.MaxResubmitDepth}): the tables loop, packet dropped";
            _trace?.Report(TraceNodeType.Error, _error);
            return;
        }

        _depth++;
        uint savedPort = _flow.Key.InPort;
        if (inPort is uint p)
        {
            _flow.Key.InPort = p;
        }

        LookupAndExecute(table);
        _flow.Key.InPort = savedPort;
        _depth--;
    }

    /// <summary>compose_conntrack_action: commit pending writes, ct(...), recirc(id) for table=N, then clear ct fields.</summary>
    private void Conntrack(ConntrackAction ct)
    {
        Commit();
        uint mark = 0;
        uint markMask = 0;
        UInt128 label = UInt128.Zero;
        UInt128 labelMask = UInt128.Zero;
        foreach (var s in ct.Exec)
        {
            _trace?.Report(TraceNodeType.Action, ActionText(s));
            if (s.Field == OfFields.CtMark)
            {
                mark = (mark & ~(uint)s.Mask) | (uint)s.Value;
                markMask |= (uint)s.Mask;
            }
            else
            {
                label = (label & ~s.Mask) | s.Value;
                labelMask |= s.Mask;
            }
        }

        if (ct.Exec.Count == 0)
        {
            _trace?.Report(TraceNodeType.Action, "drop");
        }

        ushort zone = ct.ZoneSource is null ? ct.Zone : (ushort)ct.ZoneSource.Read(in _flow);
        _actions.Add(DatapathAction.Conntrack(new ConntrackArgs
        {
            Zone = zone,
            Commit = ct.Commit,
            Mark = mark,
            MarkMask = markMask,
            Label = label,
            LabelMask = labelMask,
            Nat = ct.Nat,
            TimeoutPolicy = ct.Commit ? ct.Timeout : null,
        }));
        if (ct.Table is byte table)
        {
            uint id = _owner.Recirc.Acquire(new Continuation(table, in _flow.Regs, _flow.Metadata));
            _actions.Add(DatapathAction.Recirculate(id));
            _trace?.Report(TraceNodeType.Detail, $"A clone of the packet is forked to recirculate. The forked pipeline will be resumed at table {table}.");
        }

        _trace?.Report(TraceNodeType.Detail, "Sets the packet to an untracked state, and clears all the conntrack fields.");
        _flow.ClearConntrack();
    }

    private static string ActionText(OfAction action)
    {
        var sb = new StringBuilder();
        ActionFormatter.Append(sb, action);
        return sb.ToString();
    }

    private void SetField(SetFieldOfAction s)
    {
        UInt128 old = s.Field.Get(in _flow);
        s.Field.Set(ref _flow, (old & ~s.Mask) | (s.Value & s.Mask));
        if (s.Field.TranslationOnly)
        {
            return;
        }

        // Record the written bits in the datapath key's layout.
        var dirty = new OfFlow(in _pending.Dirty);
        s.Field.Set(ref dirty, s.Field.Get(in dirty) | s.Mask);
        _pending.Dirty = dirty.Key;
    }

    private bool DecTtl()
    {
        if (!_flow.Key.IsIpv4 && !_flow.Key.IsIpv6)
        {
            return true;
        }

        _wc.NwTtl = byte.MaxValue;
        if (_flow.Key.NwTtl <= 1)
        {
            _trace?.Report(TraceNodeType.Detail, "TTL exceeded, packet dropped (no controller)");
            return false;
        }

        _flow.Key.NwTtl--;
        _pending.Dirty.NwTtl = byte.MaxValue;
        return true;
    }

    private void PushVlan(ushort tpid, ushort tci)
    {
        _wc.Words[6] = ulong.MaxValue;
        _flow.Key.Vlan1Tci = _flow.Key.Vlan0Tci;
        _flow.Key.Vlan1Tpid = _flow.Key.Vlan0Tpid;
        _flow.Key.Vlan0Tpid = tpid;
        _flow.Key.Vlan0Tci = (ushort)(tci | FlowKey.VlanPresent);
        _pending.VlanChanged = true;
    }

    private void PopVlan()
    {
        _wc.Words[6] = ulong.MaxValue;
        if ((_flow.Key.Vlan0Tci & FlowKey.VlanPresent) == 0)
        {
            return;
        }

        _flow.Key.Vlan0Tci = _flow.Key.Vlan1Tci;
        _flow.Key.Vlan0Tpid = _flow.Key.Vlan1Tpid;
        _flow.Key.Vlan1Tci = 0;
        _flow.Key.Vlan1Tpid = 0;
        _pending.VlanChanged = true;
    }

    private void ModVlanPcp(byte pcp, bool pushIfNeeded)
    {
        _wc.Words[6] = ulong.MaxValue;
        if ((_flow.Key.Vlan0Tci & FlowKey.VlanPresent) == 0)
        {
            if (pushIfNeeded)
            {
                PushVlan(EtherTypes.Vlan8021Q, (ushort)(pcp << 13));
            }

            return;
        }

        _flow.Key.Vlan0Tci = (ushort)((_flow.Key.Vlan0Tci & 0x1fff) | (pcp << 13));
        _pending.VlanChanged = true;
    }

    /// <summary>
    /// controller: pending header writes are committed, then a userspace action names the packet-in's
    /// userdata (reason, length, table, rule cookie, registers and metadata now); translation goes on.
    /// </summary>
    private void Controller(ControllerAction c, byte tableId)
    {
        // A table-miss flow's (priority 0, matching everything) controller action reports no_match, as OpenFlow 1.3 says.
        var reason = _tableMiss && c.Reason == Wire.PacketInReason.Action ? Wire.PacketInReason.NoMatch : c.Reason;
        var userdata = new ControllerUserdata(reason, c.MaxLength, c.ControllerId, tableId, _cookie, in _flow.Regs, _flow.Metadata);
        if (_owner.Controllers.Intern(userdata) is not { } number)
        {
            _error = $"more than {ControllerRegistry.Capacity} distinct controller actions: packet dropped";
            _trace?.Report(TraceNodeType.Error, _error);
            return;
        }

        Commit();
        _actions.Add(DatapathAction.Userspace(number));
    }

    /// <summary>move: reads the source bits (a datapath field's bits join the megaflow mask) and writes them as a load would.</summary>
    private void Move(MoveAction m)
    {
        UInt128 value = m.Source.Read(in _flow);
        if (!m.Source.Field.TranslationOnly)
        {
            var wc = new OfFlow(in _wc);
            m.Source.Field.Set(ref wc, m.Source.Field.Get(in wc) | m.Source.Mask);
            _wc = wc.Key;
        }

        SetField(new SetFieldOfAction(m.Destination.Field, value << m.Destination.Offset, m.Destination.Mask, SetFieldSpelling.Load));
    }

    private void ModVlanVid(ushort vid, bool pushIfNeeded)
    {
        _wc.Words[6] = ulong.MaxValue;
        if ((_flow.Key.Vlan0Tci & FlowKey.VlanPresent) == 0)
        {
            if (pushIfNeeded)
            {
                PushVlan(EtherTypes.Vlan8021Q, vid);
            }

            return;
        }

        _flow.Key.Vlan0Tci = (ushort)((_flow.Key.Vlan0Tci & 0xf000) | vid);
        _pending.VlanChanged = true;
    }
}
