using System.Diagnostics;
using Actors.Conntrack;
using Actors.PacketPath;
using Akka.Actor;
using Akka.Event;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Normal;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets;
using Datapath.Pipeline;
using Datapath.Stats;

namespace Actors.Pmd;

// The PMD's messages are local (INoSerializationVerificationNeeded): they carry packets, pools,
// actor-local tables or counters, and a PMD only talks to ports and shards through them on its node.

/// <summary>The OpenFlow tables this PMD translates with, from the bridge; megaflows are revalidated before the next batch.</summary>
public sealed record UseFlows(long Version, IReadOnlyList<FlowEntry> Entries) : INoSerializationVerificationNeeded;

/// <summary>The bridge's ports; megaflows that flood are revalidated before the next batch.</summary>
public sealed record UsePorts(IReadOnlyList<PortLink> Ports) : INoSerializationVerificationNeeded;

/// <summary>Asks for the PMD's counters (pmd-stats-show).</summary>
public sealed record GetPmdStatistics : INoSerializationVerificationNeeded
{
    public static GetPmdStatistics Instance { get; } = new();

    private GetPmdStatistics()
    {
    }
}

/// <summary>
/// A PMD's counters at one moment. Every packet it received (or a packet_out put in) is accounted
/// for once: <c>Pipeline.PacketsReceived + PacketsInjected == PacketsSent + PacketsDropped + PacketsHeld</c>;
/// the copies it sent (<see cref="Outputs"/>, <see cref="ToUserspace"/>) reached their port's
/// transmit side or a controller, or were dropped on the way (<see cref="TransmitDropsNoPort"/>,
/// <see cref="TransmitDropsPoolEmpty"/>, <see cref="ControllerDrops"/>).
/// </summary>
/// <param name="Drops">Packets dropped by the pipeline, one counter per reason, named as the summary prints them.</param>
/// <param name="RxqProcessingNs">Nanoseconds spent on the batches of each receive queue (port number, queue), since the PMD started (pmd-stats-clear keeps them).</param>
public sealed record PmdStatistics(
    int Pmd,
    PmdStats Pipeline,
    long MegaflowCount,
    long ConntrackMessages,
    long InFlightPackets,
    long TransmitDropsNoPort,
    long TransmitDropsPoolEmpty,
    long RecirculationDepthExceeded,
    long Revalidations,
    long MegaflowsRemoved,
    IReadOnlyDictionary<string, long> Drops,
    IReadOnlyDictionary<(uint Port, int Queue), long>? RxqProcessingNs = null) : INoSerializationVerificationNeeded
{
    /// <summary>Conntrack shards this PMD hosts (docs/architecture.md, "Where a shard lives").</summary>
    public int HostedShards { get; init; }

    /// <summary>Conntrack inputs of this PMD's packets tracked in place, on a shard it hosts (no message).</summary>
    public long ConntrackInPlace { get; init; }

    /// <summary>Packets sent at least once (an output, or the userspace action), each counted once.</summary>
    public long PacketsSent { get; init; }

    /// <summary>Packets held now: waiting for a conntrack answer, or fragments waiting for their datagram.</summary>
    public long PacketsHeld { get; init; }

    /// <summary>Packets of batches taken from ports but not yet processed (waiting for a new table's revalidation): not yet received by the pipeline.</summary>
    public long PacketsWaiting { get; init; }

    /// <summary>Copies handed to ports (flooding or several outputs send one packet more than once).</summary>
    public long Outputs { get; init; }

    /// <summary>Copies handed to the userspace action (OpenFlow's controller).</summary>
    public long ToUserspace { get; init; }

    /// <summary>Sends beyond each packet's first: <see cref="Outputs"/> + <see cref="ToUserspace"/> - <see cref="PacketsSent"/>.</summary>
    public long ExtraCopies => Outputs + ToUserspace - PacketsSent;

    /// <summary>Packets dropped by the pipeline, all reasons.</summary>
    public long PacketsDropped => Drops.Values.Sum();

    /// <summary>Copies of the userspace action (<see cref="ToUserspace"/>) not delivered to a controller: none connected, or over <see cref="PmdActor.ControllerBudget"/> a second.</summary>
    public long ControllerDrops { get; init; }

    /// <summary>Packets a controller's packet_out put into this PMD (not received on a port; sent, dropped or held as received ones are).</summary>
    public long PacketsInjected { get; init; }

    /// <summary>The CPU this PMD's thread is pinned to (datapath.pmd-cpu-mask), as the kernel reported it after pinning; null when the kernel places the thread.</summary>
    public int? Cpu { get; init; }
}

/// <summary>Asks for the per-rule packet and byte counts this PMD has credited (after pushing its megaflows' statistics).</summary>
public sealed record GetRuleStatistics : INoSerializationVerificationNeeded
{
    public static GetRuleStatistics Instance { get; } = new();

    private GetRuleStatistics()
    {
    }
}

/// <summary>Per-rule counts of one PMD, keyed by the rule's definition.</summary>
public sealed record RuleStatistics(int Pmd, IReadOnlyList<(FlowEntry Entry, long Packets, long Bytes)> Rules) : INoSerializationVerificationNeeded;

/// <summary>
/// One PMD (poll-mode driver thread in Open vSwitch): owns one <see cref="PmdCore"/> (its EMC,
/// megaflow classifier, reassembly and pending conntrack work), its own copy of the OpenFlow tables
/// with their statistics, its recirculation ids and MAC table; nothing else touches them. Batches
/// come from ports; ct work goes to the conntrack shards and continues when they answer;
/// transmitted frames go to the ports in batches. Table and port changes are applied before the
/// next batch: if conntrack answers are outstanding, new batches wait until they are in, so no
/// packet is forwarded by a stale megaflow and no recirculation id is reused under a packet in flight.
/// </summary>
public sealed partial class PmdActor : ReceiveActor, IWithTimers
{
    private readonly int _id;
    private readonly PmdSettings _settings;
    private readonly OpenFlowTables _tables = new();
    private readonly Translator _translator;
    private readonly TranslationRevalidator _revalidator;
    private readonly ConntrackRoutes _routes;
    private readonly HostedShards _hosted;
    private readonly RemoteShards _remote;
    private readonly PmdConntrackStage _conntrack;
    private readonly PmdTransmitter _transmitter;

    // The transmitter's counts at the last pmd-stats-clear (it is never cleared itself).
    private (long Packets, long Batches) _outputsAtClear;
    private readonly PmdCore _core;
    private readonly Queue<(PathBatch Batch, IActorRef AckTo)> _waiting = new();

    // Told to a port for every batch taken: one instance, so the ack allocates nothing.
    private readonly BatchTaken _taken;
    private readonly List<(IActorRef ReplyTo, long Token)> _quiesceWaiters = [];
    private readonly ConcurrentBatchPool _batches;

    // Processing time per receive queue (port, queue): one dictionary update per batch, never per packet.
    private readonly Dictionary<(uint Port, int Queue), long> _rxqNs = [];
    private int? _cpu;
    private bool _revalidationPending;

    // A PMD (a fresh one, or one restarted empty) holds its batches until it has the bridge's tables.
    private bool _hasFlows;

    // A table from the bridge waiting for the conntrack answers in flight (applied with the revalidation).
    private IReadOnlyList<FlowEntry>? _pendingFlows;
    private long _nowMs;
    private DateTimeOffset _nowSetAt;
    private long _revalidations;
    private long _megaflowsRemoved;

    public PmdActor(int id, PmdSettings settings, IActorRef conntrackRegion, int shardCount, ConcurrentBatchPool batches)
    {
        _id = id;
        _taken = new BatchTaken(id);
        _settings = settings;
        _batches = batches;
        _translator = new Translator(_tables, new RecircRegistry(), [], new MacLearningTable());
        _revalidator = new TranslationRevalidator(_translator);
        _routes = new ConntrackRoutes(conntrackRegion, shardCount, settings.DirectConntrackRoutes);
        _transmitter = new PmdTransmitter(id, batches, Self);
        _hosted = new HostedShards(shardCount);
        RemoteShards? remote = null;
        PmdConntrackStage? conntrack = null;
        var self = Self;
        var scheduler = Context.System.Scheduler;
        var hosted = _hosted;
        var routes = _routes;
        _core = new PmdCore(
            _translator,
            answers =>
            {
                remote = new RemoteShards(routes, self, scheduler, answers);
                return conntrack = new PmdConntrackStage(shardCount, hosted, remote, answers, self, scheduler);
            },
            _transmitter,
            settings.Core);
        _remote = remote!;
        _conntrack = conntrack!;

        Receive<PathBatch>(batch => HandleBatch(batch, Sender));
        Receive<ConnectionsTracked>(HandleTracked);
        Receive<BypassFlowsRevoked>(_remote.Revoked);
        Receive<UseFlows>(HandleFlows);
        Receive<UsePorts>(HandlePorts);
        Receive<Quiesce>(HandleQuiesce);
        Receive<GetPmdStatistics>(_ => Sender.Tell(Statistics()));
        Receive<GetRuleStatistics>(_ => HandleRuleStatistics());
        Receive<Tick>(_ => HandleTick());
        Receive<Terminated>(t => _routes.Forget(t.ActorRef));
        Receive<RestartPmd>(_ => throw new PmdRestartRequestedException($"PMD {_id}: restart requested."));
        ReceiveDatapathCommands();
        ReceiveConntrackHosting();
        ReceiveOpenFlowCommands();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The PMD's props; with dedicated threads the caller puts it on its thread's dispatcher (<see cref="PmdThreads.Register"/>).</summary>
    public static Props Props(int id, PmdSettings settings, IActorRef conntrackRegion, int shardCount, ConcurrentBatchPool batches)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Akka.Actor.Props.Create(() => new PmdActor(id, settings, conntrackRegion, shardCount, batches));
    }

    protected override void PreStart()
    {
        PinThread();
        Timers.StartPeriodicTimer(nameof(Tick), Tick.Instance, _settings.RevalidateInterval);
    }

    /// <summary>
    /// datapath.pmd-cpu-mask: the PMD's own thread (it runs this, on its dispatcher of one thread)
    /// goes to its CPU; the port actors sharing the thread go with it. A restart pins again. The Host
    /// checked the CPU against the process's own; a refusal now (a CPU taken offline) leaves the
    /// thread where the kernel puts it, said in the log and in <see cref="PmdStatistics.Cpu"/>.
    /// Threads started from a pinned thread inherit its CPU (Linux): the .NET pool starts a worker
    /// from the thread that asks for one, which a PMD thread rarely does (the pool's workers exist
    /// before the PMDs start); the other threads keep every CPU, the PMD's included, as Open
    /// vSwitch's non-PMD threads do unless dpdk-lcore-mask keeps them off.
    /// </summary>
    private void PinThread()
    {
        if (!_settings.DedicatedThreads || _settings.Cpus.Count == 0)
        {
            return;
        }

        int cpu = _settings.Cpus[_id];
        try
        {
            CpuAffinity.PinCurrentThread(cpu);
            _cpu = CpuAffinity.OfCurrentThread() is [var only] ? only : null;
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException)
        {
            Context.GetLogger().Error("PMD {0}: not pinned to CPU {1} (datapath.pmd-cpu-mask): {2}", _id, cpu, e.Message);
        }
    }

    /// <summary>A restarted PMD is empty: the bridge hears of it and sends the tables and ports again.</summary>
    protected override void PostRestart(Exception reason)
    {
        base.PostRestart(reason);
        Context.System.EventStream.Publish(new PmdRestarted(Self));
        AskForHostedShards();
    }

    /// <summary>
    /// Packets a stop or restart loses (waiting for conntrack or for their datagram, or in batches
    /// waiting for a revalidation) go back to their pools and are counted, never leaked.
    /// </summary>
    protected override void PostStop()
    {
        int lost = _core.ReleaseHeldPackets();
        foreach (var waiting in _waiting)
        {
            lost += waiting.Batch.Count;
            foreach (var packet in waiting.Batch.Packets)
            {
                packet.Pool?.Return(packet);
            }

            waiting.Batch.ReturnHome();
            Ack(waiting.AckTo);
        }

        _waiting.Clear();

        // Nothing of this incarnation is in flight any more: whoever waits for quiet gets it.
        foreach (var (replyTo, token) in _quiesceWaiters)
        {
            replyTo.Tell(new Quiesced(_id, token));
        }

        if (lost > 0)
        {
            Context.System.EventStream.Publish(new PmdPacketsLost(_id, lost));
        }

        ReturnHostedShards();
    }

    /// <param name="ackTo">The port to tell <see cref="BatchTaken"/> (its window); nobody for a replay, which paces itself.</param>
    private void HandleBatch(PathBatch batch, IActorRef ackTo)
    {
        if (_revalidationPending || !_hasFlows)
        {
            // Acked when it runs: a parked batch still counts against the port's window.
            _waiting.Enqueue((batch, ackTo));
            return;
        }

        Run(batch, ackTo);
        AfterWork();
    }

    private void Run(PathBatch batch, IActorRef ackTo)
    {
        Ack(ackTo);
        Advance(batch.ClockMs);
        uint port = batch.Count > 0 ? batch[0].Metadata.InPort : 0;
        long start = Stopwatch.GetTimestamp();
        _conntrack.BatchNow = _nowSetAt;
        _core.Process(batch, _nowMs);

        // As the inline datapath does after each batch: fragment expiry on the batches' clock.
        _core.ExpireFragments(_nowMs);
        _conntrack.BatchNow = null;
        long ns = (long)Stopwatch.GetElapsedTime(start).TotalNanoseconds;
        _core.AddProcessingTime(ns);
        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_rxqNs, (port, batch.Queue), out _) += ns;
        batch.ReturnHome();
    }

    private void Ack(IActorRef ackTo)
    {
        if (!ackTo.IsNobody())
        {
            ackTo.Tell(_taken);
        }
    }

    private void HandleTracked(ConnectionsTracked answer)
    {
        // An answer of this PMD's own (a shard it took to host while messages were on their way) teaches no route.
        if (!Sender.Equals(Self) && _routes.Learn(answer.Shard, Sender))
        {
            Context.Watch(Sender);
        }

        long start = Stopwatch.GetTimestamp();
        _remote.Complete(answer);
        _core.AddProcessingTime((long)Stopwatch.GetElapsedTime(start).TotalNanoseconds);
        AfterWork();
    }

    private void HandleFlows(UseFlows message)
    {
        // The new table takes over when no packet is between its passes: a packet that ran its first
        // pass on the old table resumes its recirculation on the old table too (no packet ever sees a
        // mixture of two versions), and batches that arrive meanwhile wait for the new one.
        _pendingFlows = message.Entries;
        _hasFlows = true;
        _controllerTarget = Sender;
        RequestRevalidation();
    }

    private void HandlePorts(UsePorts message)
    {
        _transmitter.UsePorts(message.Ports);
        _translator.Ports = message.Ports.Select(p => p.Port).Order().ToArray();
        RequestRevalidation();
    }

    private void HandleQuiesce(Quiesce message)
    {
        _quiesceWaiters.Add((Sender, message.Token));
        AfterWork();
    }

    /// <summary>
    /// Periodic work: gives up on lost conntrack answers, frees timed-out fragments, and asks for a
    /// revalidation (statistics push and idle megaflow expiry). Revalidation waits for the
    /// conntrack answers in flight, since removing a megaflow may free a recirculation id they carry.
    /// </summary>
    private void HandleTick()
    {
        _remote.ExpireOverdue(_settings.ConntrackAnswerTimeout);
        _core.ExpireFragments(CurrentMs());
        RequestRevalidation();
    }

    /// <summary>Pushes megaflow statistics to the rules and removes megaflows that changed or idled.</summary>
    private void Revalidate()
    {
        var result = _core.Revalidate(_revalidator, CurrentMs());
        _revalidations++;
        _megaflowsRemoved += result.Removed;
    }

    private void HandleRuleStatistics()
    {
        // Pushing only credits counters, so it needs no quiet moment (unlike revalidation).
        _core.PushStatistics(_revalidator);

        var rules = _tables.AllRules().Select(r => (r.Entry, r.Packets, r.Bytes)).ToArray();
        Sender.Tell(new RuleStatistics(_id, rules));
    }

    /// <summary>
    /// Keeps the rules whose definition did not change (with their statistics), removes the others
    /// and adds the new ones: the table's version moves, so revalidation re-translates every megaflow.
    /// </summary>
    private void ApplyFlows(IReadOnlyList<FlowEntry> entries)
    {
        var wanted = new HashSet<FlowEntry>(entries);
        foreach (var rule in _tables.AllRules().ToList())
        {
            if (!wanted.Remove(rule.Entry))
            {
                _tables.Remove(rule);
            }
        }

        if (wanted.Count > 0)
        {
            _tables.Add(entries.Where(wanted.Contains).ToList());
        }
    }

    private void RequestRevalidation()
    {
        _revalidationPending = true;
        AfterWork();
    }

    /// <summary>After each message: flush transmit batches, revalidate when nothing is in flight, run waiting batches, answer quiesce requests.</summary>
    private void AfterWork()
    {
        _hosted.ActivateReady(_remote);
        if (_revalidationPending && _core.OutstandingConntrack == 0)
        {
            _revalidationPending = false;
            if (_pendingFlows is { } flows)
            {
                _pendingFlows = null;
                ApplyFlows(flows);
            }

            Revalidate();
        }

        FlushMegaflowsWhenQuiet();
        while (!_revalidationPending && _hasFlows && _waiting.TryDequeue(out var waiting))
        {
            Run(waiting.Batch, waiting.AckTo);
        }

        _transmitter.Flush();
        if (_quiesceWaiters.Count > 0 && _core.OutstandingConntrack == 0 && _waiting.Count == 0)
        {
            foreach (var (replyTo, token) in _quiesceWaiters)
            {
                replyTo.Tell(new Quiesced(_id, token));
            }

            _quiesceWaiters.Clear();
        }
    }

    private PmdStatistics Statistics()
    {
        var core = _core.Snapshot();
        core.Pipeline.OutputPackets = _transmitter.Sent - _outputsAtClear.Packets;
        core.Pipeline.OutputBatches = _transmitter.BatchesSent - _outputsAtClear.Batches;
        return new PmdStatistics(
            _id,
            core.Pipeline,
            core.Megaflows,
            _remote.MessagesSent,
            core.PacketsInFlight,
            _transmitter.DroppedNoPort,
            _transmitter.DroppedPoolEmpty,
            core.Core.RecirculationDepthExceeded,
            _revalidations,
            _megaflowsRemoved,
            core.Drops,
            new Dictionary<(uint Port, int Queue), long>(_rxqNs))
        {
            HostedShards = _hosted.Count,
            ConntrackInPlace = _conntrack.LocalInputs,
            PacketsSent = core.PacketsSent,
            PacketsHeld = core.PacketsHeld,
            PacketsWaiting = _waiting.Sum(w => (long)w.Batch.Count),
            Outputs = core.Outputs,
            ToUserspace = core.ToUserspace,
            ControllerDrops = _controllerDrops,
            PacketsInjected = _packetsInjected,
            Cpu = _cpu,
        };
    }

    /// <summary>The datapath clock: the latest batch's time (the capture's in a replay), moved on by the scheduler's time since (virtual in tests) unless the settings say the frames alone keep time.</summary>
    private void Advance(long batchNowMs)
    {
        _nowMs = batchNowMs;
        _nowSetAt = Context.System.Scheduler.Now;
    }

    private long CurrentMs() => _settings.FrameClock ? _nowMs : _nowMs + (long)(Context.System.Scheduler.Now - _nowSetAt).TotalMilliseconds;

    private sealed class Tick
    {
        public static Tick Instance { get; } = new();
    }
}

/// <summary>Published when a PMD stops with packets still in flight (a restart loses them; counted, not hidden).</summary>
public sealed record PmdPacketsLost(int Pmd, int Packets) : INoSerializationVerificationNeeded;

/// <summary>Published when a PMD restarted under supervision: it is empty and asks its bridge for the tables and ports again.</summary>
public sealed record PmdRestarted(IActorRef Pmd) : INoSerializationVerificationNeeded;

/// <summary>Operator reset: the PMD throws, its supervisor restarts it; what it had in flight is lost and counted.</summary>
public sealed record RestartPmd : INoSerializationVerificationNeeded
{
    public static RestartPmd Instance { get; } = new();

    private RestartPmd()
    {
    }
}

/// <summary>Thrown by a PMD asked to restart (<see cref="RestartPmd"/>).</summary>
public sealed class PmdRestartRequestedException : Exception
{
    public PmdRestartRequestedException()
        : base("PMD restart requested.")
    {
    }

    public PmdRestartRequestedException(string message)
        : base(message)
    {
    }

    public PmdRestartRequestedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
