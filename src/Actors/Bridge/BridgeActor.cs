using Actors.PacketPath;
using Actors.Pmd;
using Actors.Ports;
using Akka.Actor;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Tables;
using Datapath.Packets;

namespace Actors.Bridge;

/// <summary>
/// The bridge (Open vSwitch's ofproto for one bridge): owns the OpenFlow table definition
/// (<see cref="BridgeFlows"/>), the port list and the set of PMDs. Every change becomes one new
/// snapshot sent to every PMD (one <see cref="UseFlows"/> per version, one <see cref="UsePorts"/>
/// per port change), which revalidates its megaflows before its next batch. Questions that need
/// every PMD (dump-flows, pmd-stats-show, idle expiry) fan out through a short-lived
/// <see cref="PmdGatherActor{T}"/>; the bridge never waits.
///
/// <para>Timeouts: every <see cref="BridgeSettings.ExpiryInterval"/> rules are expired by the
/// bridge's clock (the scheduler's): hard_timeout counts from installation; idle_timeout from the
/// last statistics report that showed the rule used, so a rule's idleness is known to within one
/// interval (the PMDs' own last-use times are not reported). When some rule has an idle_timeout,
/// the tick first gathers the PMDs' rule statistics, then expires.</para>
///
/// <para>Named ports (<see cref="CreatePort"/>, <see cref="DestroyPort"/>, <see cref="ShowPorts"/>):
/// the bridge starts a created port's actor as its child, gives the PMDs the new port list, then
/// tells the port to start receiving; destroying one gives the PMDs the list without it and stops
/// its actor (its threads and sockets). A port child that fails is stopped and leaves the list.
/// Ports added as links (<see cref="AddPort"/>, <see cref="SetPorts"/>) are named by their link.</para>
/// </summary>
public sealed partial class BridgeActor : ReceiveActor, IWithTimers
{
    private readonly BridgeSettings _settings;
    private readonly BridgeFlows _flows;
    private readonly SortedDictionary<uint, PortLink> _ports = [];
    private readonly List<IActorRef> _pmds = [];
    private readonly Dictionary<long, Pending> _pending = [];
    private readonly ConcurrentBatchPool _batches;
    private long _nextRequest;
    private bool _expiryGatherInFlight;

    public BridgeActor(IReadOnlyList<IActorRef> pmds, BridgeSettings settings, ConcurrentBatchPool? batches = null)
    {
        _settings = settings;
        _batches = batches ?? PathBatch.NewPool();
        _flows = new BridgeFlows(new SchedulerTimeProvider(Context.System.Scheduler));
        _pmds.AddRange(pmds);

        Receive<AddFlows>(m => Change(() => _flows.Add(m.Text, m.SourceName)));
        Receive<ReplaceFlows>(m => Change(() => _flows.Replace(m.Text, m.SourceName)));
        // SetFlows is how a node gives its PMDs their first table: published even when it changes
        // nothing (an empty table), or PMDs waiting for their first table would hold their batches.
        Receive<SetFlows>(m => Change(() => _flows.Replace(m.Entries), publishAlways: true));
        Receive<DeleteFlows>(m => Change(() => _flows.Delete(
            string.IsNullOrWhiteSpace(m.Match) ? FlowFilter.All : FlowParser.ParseFilter(m.Match, "del-flows"), m.Strict)));
        Receive<ModifyFlows>(m => Change(() => _flows.Modify(FlowParser.ParseModification(m.Flow, "mod-flows"), m.Strict)));
        Receive<GetFlowTable>(_ => Sender.Tell(new FlowTableSnapshot(_flows.Version, _flows.Entries, _ports.Keys.ToArray())));
        Receive<AddPort>(HandleAddPort);
        Receive<RemovePort>(HandleRemovePort);
        Receive<SetPorts>(HandleSetPorts);
        Receive<RegisterPmd>(HandleRegister);
        Receive<PmdRestarted>(HandleRestarted);
        Receive<Terminated>(HandleTerminated);
        Receive<CreatePort>(HandleCreatePort);
        Receive<DestroyPort>(HandleDestroyPort);
        Receive<ShowPorts>(_ => HandleShowPorts());
        Receive<PmdAnswersGathered<PortActorStatistics>>(HandlePortStatistics);
        Receive<DumpFlows>(HandleDump);
        Receive<GetPmdStatistics>(_ => Gather<PmdStatistics>(GetPmdStatistics.Instance, new Pending(PendingKind.PmdStatistics, Sender, 0, false)));
        Receive<PmdAnswersGathered<RuleStatistics>>(HandleRuleStatistics);
        Receive<PmdAnswersGathered<PmdStatistics>>(HandlePmdStatistics);
        Receive<ExpiryTick>(_ => HandleExpiryTick());
        ReceiveDatapathCommands();
        ReceiveOpenFlowCommands();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="pmds">The PMDs known at start; more can join with <see cref="RegisterPmd"/>.</param>
    /// <param name="batches">The batch pool of the node's ports and PMDs, for the ports the bridge creates (a new one when null).</param>
    public static Props Props(IReadOnlyList<IActorRef> pmds, BridgeSettings settings, ConcurrentBatchPool? batches = null) =>
        Akka.Actor.Props.Create(() => new BridgeActor(pmds, settings, batches));

    /// <summary>A child that fails (a created port, a gatherer) is stopped, not restarted: a port's sockets do not survive its restart.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart()
    {
        foreach (var pmd in _pmds)
        {
            Context.Watch(pmd);
        }

        Timers.StartPeriodicTimer(nameof(ExpiryTick), ExpiryTick.Instance, _settings.ExpiryInterval);
        Context.System.EventStream.Subscribe(Self, typeof(PmdRestarted));
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    /// <summary>One of this bridge's PMDs restarted empty: give it the current ports and tables.</summary>
    private void HandleRestarted(PmdRestarted message)
    {
        if (_pmds.Contains(message.Pmd))
        {
            message.Pmd.Tell(new UsePorts(_ports.Values.ToArray()));
            message.Pmd.Tell(new UseFlows(_flows.Version, _flows.Entries));
            SendMissBehaviourIfOn(message.Pmd);
        }
    }

    /// <summary>Runs one flow command; publishes the new version if it changed anything, and answers.</summary>
    private void Change(Func<int> command, bool publishAlways = false)
    {
        int affected;
        try
        {
            affected = command();
        }
        catch (FlowSyntaxException e)
        {
            var errors = e.Errors.Count > 0 ? e.Errors.Select(x => x.ToString()).ToArray() : [e.Message];
            Sender.Tell(new FlowsRejected(errors));
            return;
        }

        if (affected > 0 || publishAlways)
        {
            PublishFlows();
        }

        NotifyRemovedFlows();
        Sender.Tell(new FlowsChanged(_flows.Version, affected));
    }

    private void PublishFlows()
    {
        var message = new UseFlows(_flows.Version, _flows.Entries);
        foreach (var pmd in _pmds)
        {
            pmd.Tell(message);
        }
    }

    private void PublishPorts()
    {
        SendPortsToPmds();
        Sender.Tell(new PortsChanged(_ports.Keys.ToArray()));
    }

    private void SendPortsToPmds()
    {
        NotifyPortChanges();
        var message = new UsePorts(_ports.Values.ToArray());
        foreach (var pmd in _pmds)
        {
            pmd.Tell(message);
        }
    }

    private void HandleAddPort(AddPort message)
    {
        _ports[message.Link.Port] = message.Link;
        PublishPorts();
        StopUnlistedPorts();
    }

    private void HandleRemovePort(RemovePort message)
    {
        if (_ports.Remove(message.Port))
        {
            PublishPorts();
            StopUnlistedPorts();
        }
        else
        {
            Sender.Tell(new PortsChanged(_ports.Keys.ToArray()));
        }
    }

    private void HandleSetPorts(SetPorts message)
    {
        _ports.Clear();
        foreach (var link in message.Links)
        {
            _ports[link.Port] = link;
        }

        PublishPorts();
        StopUnlistedPorts();
    }

    private void HandleRegister(RegisterPmd message)
    {
        if (!_pmds.Contains(message.Pmd))
        {
            _pmds.Add(message.Pmd);
            Context.Watch(message.Pmd);
            message.Pmd.Tell(new UsePorts(_ports.Values.ToArray()));
            message.Pmd.Tell(new UseFlows(_flows.Version, _flows.Entries));
            SendMissBehaviourIfOn(message.Pmd);
        }

        Sender.Tell(new PmdRegistered(message.Pmd, _flows.Version));
    }

    private void HandleDump(DumpFlows message)
    {
        FlowFilter? filter = null;
        if (!string.IsNullOrWhiteSpace(message.Match))
        {
            try
            {
                filter = FlowParser.ParseFilter(message.Match, "dump-flows");
            }
            catch (FlowSyntaxException e)
            {
                Sender.Tell(new FlowsRejected(e.Errors.Count > 0 ? e.Errors.Select(x => x.ToString()).ToArray() : [e.Message]));
                return;
            }
        }

        if (!message.WithStats)
        {
            Sender.Tell(new FlowsDumped(_flows.Version, _flows.Dump(withStats: false, filter), 0));
            return;
        }

        Gather<RuleStatistics>(GetRuleStatistics.Instance, new Pending(PendingKind.Dump, Sender, _flows.Version, true, filter));
    }

    private void HandleExpiryTick()
    {
        if (!_flows.HasTimeouts)
        {
            return;
        }

        if (!_flows.HasIdleTimeouts)
        {
            Expire();
            return;
        }

        if (!_expiryGatherInFlight)
        {
            _expiryGatherInFlight = true;
            Gather<RuleStatistics>(GetRuleStatistics.Instance, new Pending(PendingKind.Expiry, ActorRefs.Nobody, _flows.Version, false));
        }
    }

    /// <summary>Asks every PMD <paramref name="question"/>, answers going to a new gatherer child.</summary>
    private void Gather<T>(object question, Pending pending)
    {
        long id = ++_nextRequest;
        _pending[id] = pending;
        AskThroughGatherer<T>(id, _pmds, question);
    }

    /// <summary>
    /// Sends <paramref name="question"/> to each of <paramref name="asked"/> with a new gatherer
    /// child as sender; it tells this actor what it collected under <paramref name="requestId"/>.
    /// </summary>
    private void AskThroughGatherer<T>(long requestId, IReadOnlyCollection<IActorRef> asked, object question)
    {
        var targets = asked.ToArray();
        var gatherer = Context.ActorOf(PmdGatherActor<T>.Props(requestId, targets, _settings.GatherTimeout));
        foreach (var target in targets)
        {
            target.Tell(question, gatherer);
        }
    }

    private void HandleRuleStatistics(PmdAnswersGathered<RuleStatistics> gathered)
    {
        if (!_pending.Remove(gathered.RequestId, out var pending))
        {
            return;
        }

        foreach (var answer in gathered.Answers)
        {
            _flows.Account(answer.Pmd, pending.Version, answer.Rules);
        }

        if (pending.Kind == PendingKind.Expiry)
        {
            _expiryGatherInFlight = false;
            Expire();
        }
        else if (pending.Kind == PendingKind.OpenFlowStatistics)
        {
            AnswerFlowStatistics(gathered.RequestId);
        }
        else
        {
            pending.ReplyTo.Tell(new FlowsDumped(_flows.Version, _flows.Dump(pending.WithStats, pending.Filter), gathered.Missing));
        }
    }

    private void HandlePmdStatistics(PmdAnswersGathered<PmdStatistics> gathered)
    {
        if (_pending.Remove(gathered.RequestId, out var pending))
        {
            var ordered = gathered.Answers.OrderBy(s => s.Pmd).ToArray();
            pending.ReplyTo.Tell(new PmdStatisticsGathered(ordered, gathered.Missing));
        }
    }

    private void Expire()
    {
        var expired = _flows.Expire();
        if (expired.Count == 0)
        {
            return;
        }

        PublishFlows();
        NotifyRemovedFlows();
        var rules = expired.Select(r => (r.Rule.Entry, r.Reason == RuleRemovalReason.IdleTimeout ? "idle_timeout" : "hard_timeout")).ToArray();
        Context.System.EventStream.Publish(new FlowsExpired(_flows.Version, rules));
    }

    private enum PendingKind
    {
        Dump,
        Expiry,
        PmdStatistics,
        OpenFlowStatistics,
    }

    /// <summary>A fan-out in progress: who gets the answer, and the version current when it was asked.</summary>
    private sealed record Pending(PendingKind Kind, IActorRef ReplyTo, long Version, bool WithStats, FlowFilter? Filter = null);

    private sealed class ExpiryTick
    {
        public static ExpiryTick Instance { get; } = new();
    }
}
