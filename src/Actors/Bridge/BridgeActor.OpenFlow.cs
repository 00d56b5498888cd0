using Actors.PacketPath;
using Actors.Pmd;
using Actors.Ports;
using Akka.Actor;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Wire;

namespace Actors.Bridge;

/// <summary>
/// The bridge as an OpenFlow switch (Open vSwitch's ofproto and connmgr): flow_mods on the one
/// table the text commands change, flow and table statistics after gathering the PMDs' counters,
/// ports with their counters, packet_out into a PMD, and the asynchronous messages to every
/// connection that subscribed: packet_in from the PMDs' controller actions, flow_removed for rules
/// with send_flow_rem, port_status when ports come and go.
/// </summary>
public sealed partial class BridgeActor
{
    private readonly HashSet<IActorRef> _openFlow = [];
    private readonly HashSet<IActorRef> _wantMisses = [];
    private readonly Dictionary<long, (IActorRef ReplyTo, FlowFilter Filter)> _statisticsRequests = [];
    private readonly Dictionary<long, IActorRef> _describeRequests = [];
    private readonly Dictionary<uint, PortInfo> _announced = [];
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private int _nextInjector;

    private void ReceiveOpenFlowCommands()
    {
        Receive<ApplyFlowMod>(m => HandleFlowMod(m.Mod));
        Receive<GetFlowStatistics>(m =>
        {
            long id = ++_nextRequest;
            _statisticsRequests[id] = (Sender, m.Filter);
            GatherRuleStatistics(id);
        });
        Receive<DescribePorts>(_ => HandleDescribePorts());
        Receive<InjectPacket>(HandleInject);
        Receive<SubscribeOpenFlow>(m =>
        {
            if (_openFlow.Add(m.Connection))
            {
                Context.Watch(m.Connection);
            }
        });
        Receive<WantTableMisses>(m =>
        {
            bool before = _wantMisses.Count > 0;
            _ = m.Want ? _wantMisses.Add(m.Connection) : _wantMisses.Remove(m.Connection);
            if (before != _wantMisses.Count > 0)
            {
                foreach (var pmd in _pmds)
                {
                    SendMissBehaviour(pmd);
                }
            }
        });
        Receive<PacketToController>(m =>
        {
            foreach (var connection in _openFlow)
            {
                connection.Tell(m);
            }
        });
    }

    /// <summary>A subscriber that stopped is forgotten; true when <paramref name="actor"/> was one.</summary>
    private bool ForgetOpenFlow(IActorRef actor)
    {
        if (_wantMisses.Remove(actor) && _wantMisses.Count == 0)
        {
            foreach (var pmd in _pmds)
            {
                SendMissBehaviour(pmd);
            }
        }

        return _openFlow.Remove(actor);
    }

    /// <summary>A PMD that joins (or restarted) starts with misses dropped: told only when they go to the controllers.</summary>
    private void SendMissBehaviourIfOn(IActorRef pmd)
    {
        if (_wantMisses.Count > 0)
        {
            SendMissBehaviour(pmd);
        }
    }

    /// <summary>Tells <paramref name="pmd"/> whether table misses go to the controllers now.</summary>
    private void SendMissBehaviour(IActorRef pmd) => pmd.Tell(new UseMissBehaviour(_wantMisses.Count > 0));

    private void HandleFlowMod(FlowMod mod)
    {
        int affected;
        try
        {
            affected = ApplyFlowModTo(mod);
        }
        catch (OfpException e)
        {
            Sender.Tell(new OpenFlowRefused(e.Kind, e.Message));
            return;
        }

        if (affected > 0)
        {
            PublishFlows();
        }

        NotifyRemovedFlows();
        Sender.Tell(new FlowModApplied(_flows.Version, affected));
    }

    private int ApplyFlowModTo(FlowMod mod)
    {
        byte? table = mod.Table == 255 ? null : mod.Table;
        var filter = new FlowFilter(table, mod.Priority, mod.Match)
        {
            Cookie = mod.Cookie,
            CookieMask = mod.CookieMask,
            OutPort = mod.OutPort is OfpPort.Any or 0 ? null : mod.OutPort,
        };
        var entry = new FlowEntry(table ?? 0, mod.Priority, mod.Cookie, mod.IdleTimeout, mod.HardTimeout, mod.Match, mod.Actions) { Flags = mod.Flags };
        bool reset = (mod.Flags & FlowModFlags.ResetCounts) != 0;
        switch (mod.Command)
        {
            case FlowModCommand.Add:
                return _flows.AddFlow(entry);
            case FlowModCommand.Modify or FlowModCommand.ModifyStrict:
                {
                    // Modify ignores out_port; OpenFlow 1.0 adds the flow when nothing matches, 1.1+ does not.
                    var selection = new FlowFilter(filter.Table, filter.Priority, filter.Match) { Cookie = filter.Cookie, CookieMask = filter.CookieMask };
                    ulong? newCookie = mod.CookieMask == 0 ? mod.Cookie : null;
                    var toAdd = mod.Version == OfpVersion.Of10 && mod.CookieMask == 0 ? entry : null;
                    return _flows.ModifyFlows(selection, mod.Command == FlowModCommand.ModifyStrict, mod.Actions, newCookie, reset, toAdd);
                }

            default:
                return _flows.Delete(filter, mod.Command == FlowModCommand.DeleteStrict);
        }
    }

    /// <summary>flow_removed for every removed rule that asked for it (send_flow_rem), to every subscriber.</summary>
    private void NotifyRemovedFlows()
    {
        var removed = _flows.TakeRemoved();
        if (removed.Count == 0 || _openFlow.Count == 0)
        {
            return;
        }

        var now = _flows.Clock.GetUtcNow();
        foreach (var r in removed)
        {
            if ((r.Rule.Entry.Flags & FlowModFlags.SendFlowRemoved) == 0)
            {
                continue;
            }

            var reason = r.Reason switch
            {
                RuleRemovalReason.IdleTimeout => FlowRemovedReason.IdleTimeout,
                RuleRemovalReason.HardTimeout => FlowRemovedReason.HardTimeout,
                _ => FlowRemovedReason.Delete,
            };
            var notice = new FlowRemovedNotice(new FlowRemovedMessage(r.Rule.Entry, reason, now - r.Rule.Installed, r.Rule.Packets, r.Rule.Bytes));
            foreach (var connection in _openFlow)
            {
                connection.Tell(notice);
            }
        }
    }

    private void GatherRuleStatistics(long id)
    {
        _pending[id] = new Pending(PendingKind.OpenFlowStatistics, ActorRefs.Nobody, _flows.Version, true);
        AskThroughGatherer<RuleStatistics>(id, _pmds, GetRuleStatistics.Instance);
    }

    /// <summary>The PMDs' counters are in: the statistics request gets the selected flows and the tables' counters.</summary>
    private void AnswerFlowStatistics(long id)
    {
        if (_statisticsRequests.Remove(id, out var request))
        {
            request.ReplyTo.Tell(new FlowStatisticsGathered(_flows.Statistics(request.Filter), _flows.TableStatistics()));
        }
    }

    private void HandleDescribePorts()
    {
        var actors = PortActors();
        long id = ++_nextRequest;
        _describeRequests[id] = Sender;
        AskThroughGatherer<PortActorStatistics>(id, actors, GetPortStatistics.Instance);
    }

    /// <summary>Port counters gathered for an OpenFlow request; false when <paramref name="gathered"/> answers something else.</summary>
    private bool AnswerDescribePorts(PmdAnswersGathered<PortActorStatistics> gathered)
    {
        if (!_describeRequests.Remove(gathered.RequestId, out var replyTo))
        {
            return false;
        }

        var counters = SumCounters(gathered);
        var uptime = DateTimeOffset.UtcNow - _started;
        var infos = _ports.Values.Select(Describe).ToArray();
        var stats = _ports.Keys.Select(n => counters.TryGetValue(n, out var c)
            ? new PortStatsEntry(n, c.RxPackets, c.TxPackets, c.RxBytes, c.TxBytes, c.RxDropped, c.TxDropped, c.RxErrors, c.TxErrors, uptime)
            : new PortStatsEntry(n, -1, -1, -1, -1, -1, -1, -1, -1, uptime)).ToArray();
        replyTo.Tell(new PortsDescribed(_settings.DatapathId, infos, stats));
        return true;
    }

    private static PortInfo Describe(PortLink link) =>
        new(link.Port, NameOf(link), PortAddresses.Of(link));

    /// <summary>packet_out: one PMD (in turn) runs the frame through the actions.</summary>
    private void HandleInject(InjectPacket message)
    {
        if (_pmds.Count == 0)
        {
            return;
        }

        _pmds[_nextInjector++ % _pmds.Count].Tell(message);
    }

    /// <summary>port_status to the subscribers for ports added to or removed from the list since the last call.</summary>
    private void NotifyPortChanges()
    {
        var now = _ports.Values.ToDictionary(l => l.Port, Describe);
        foreach (var (number, info) in _announced.ToArray())
        {
            if (!now.ContainsKey(number))
            {
                _announced.Remove(number);
                Tell(new PortStatusNotice(PortStatusReason.Delete, info));
            }
        }

        foreach (var (number, info) in now)
        {
            if (!_announced.ContainsKey(number))
            {
                _announced[number] = info;
                Tell(new PortStatusNotice(PortStatusReason.Add, info));
            }
        }

        void Tell(PortStatusNotice notice)
        {
            foreach (var connection in _openFlow)
            {
                connection.Tell(notice);
            }
        }
    }
}
