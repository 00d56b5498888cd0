using Datapath.Actions;
using Datapath.Caches;
using Datapath.Classifier;
using Datapath.Conntrack;
using Datapath.Conntrack.Fragments;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Pipeline;

/// <summary>
/// Everything one PMD does to packets, as a plain class its owner drives (the actor PMD, or the
/// single-threaded <see cref="InlineDatapath"/>): the <see cref="PmdPipeline"/> with its upcalls,
/// ct actions through an <see cref="IConntrackStage"/> (IP fragments reassembled first, as Open
/// vSwitch's ipf does), the continuation of each packet when its conntrack answer comes back,
/// and recirculation. Recirculated batches queue behind the work in progress and run when the
/// owner's call unwinds, because the pipeline's scratch belongs to one batch at a time (Open
/// vSwitch recurses instead, with scratch on the stack). Transmitted packets go to the sink.
/// Not thread-safe: one owner.
/// </summary>
public sealed class PmdCore : IShortcutObserver
{
    private static readonly int[] Identity = Enumerable.Range(0, PacketBatch.MaxSize).ToArray();

    private readonly PmdPipeline _pipeline;
    private readonly IConntrackStage _conntrack;
    private readonly IpReassembler _reassembler;
    private readonly IPacketSink _sink;
    private readonly PacketPool _packets;
    private readonly PacketBatchPool _batches = new();
    // Work queued behind the call in progress, in order: recirculated passes, and combined flows'
    // packets that passed their guard (they wait their turn so that no packet overtakes one that
    // arrived before it and recirculated).
    private readonly Queue<Work> _queued = new();
    private readonly Dictionary<long, ConntrackRequest> _outstanding = [];
    private readonly Stack<ConntrackRequest> _spareRequests = new();

    // Requests gathering a pass's ct inputs, one per ct argument set, sent when the outermost call unwinds.
    private readonly List<ConntrackRequest> _gathering = [];
    private readonly ExtractionStats _ctExtraction = new();
    private readonly List<Packet> _expired = [];
    private readonly int _maxDepth;
    private readonly long _idleMs;
    private FlowKey _ctKey;
    private long _nowMs;
    private long _nextRequestId;
    private int _busy;

    public PmdCore(IUpcallHandler upcall, IConntrackStage conntrack, IPacketSink sink, PmdCoreOptions? options = null, IpReassembler? reassembler = null)
    {
        ArgumentNullException.ThrowIfNull(upcall);
        ArgumentNullException.ThrowIfNull(conntrack);
        ArgumentNullException.ThrowIfNull(sink);
        options ??= new PmdCoreOptions();
        var emc = options.EmcEntries == 0 ? null : new ExactMatchCache(options.EmcEntries, options.EmcInsertInvProb);
        var shortcuts = options.RecircBypass ? new ShortcutTable(options.ShortcutEntries) : null;
        _pipeline = new PmdPipeline(emc, new MegaflowClassifier(), upcall, _batches, shortcuts, options.ShortcutsInEmcOnly, options.CombinedMegaflows)
        {
            ShortcutObserver = this,
        };
        _conntrack = conntrack;
        _sink = sink;
        _reassembler = reassembler ?? new IpReassembler();
        _packets = new PacketPool(options.PacketPoolSize);
        _maxDepth = options.MaxRecirculationDepth;
        _idleMs = options.MegaflowIdleMs;
    }

    public PmdPipeline Pipeline => _pipeline;

    public IpReassembler Reassembler => _reassembler;

    public PmdCoreStats Stats { get; } = new();

    /// <summary>Conntrack requests sent and not fully answered.</summary>
    public int OutstandingConntrack => _outstanding.Count;

    /// <summary>Packets waiting for a conntrack answer (lost if the owner dies now).</summary>
    public int PacketsInFlight
    {
        get
        {
            int count = 0;
            foreach (var request in _outstanding.Values)
            {
                for (int i = 0; i < request.Count; i++)
                {
                    count += request.IsAnswered(i) ? 0 : request.PacketsOf(i).Count;
                }
            }

            return count;
        }
    }

    /// <summary>A packet from this PMD's pool, holding <paramref name="frame"/> as received on <paramref name="inPort"/>.</summary>
    public bool TryReceive(ReadOnlySpan<byte> frame, uint inPort, out Packet packet)
    {
        if (!_packets.TryRent(out packet))
        {
            Stats.PoolExhausted++;
            return false;
        }

        packet.SetFrame(frame, inPort);
        return true;
    }

    /// <summary>Runs a received batch (packets from <see cref="TryReceive"/>); leaves it empty.</summary>
    public void Process(PacketBatch batch, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Enter(nowMs);
        var context = new Context(this);
        _pipeline.Process(batch, nowMs, ref context);
        Exit();
    }

    /// <summary>
    /// Runs <paramref name="actions"/> (a packet_out's, translated) on one packet from
    /// <see cref="TryReceive"/> whose key was extracted: no lookup, nothing cached; conntrack and
    /// recirculation continue as for any packet.
    /// </summary>
    public void Execute(Packet packet, ActionList actions, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ArgumentNullException.ThrowIfNull(actions);
        Enter(nowMs);
        var context = new Context(this);
        var batch = _batches.Rent();
        batch.Add(packet);
        ActionExecutor.Execute(batch, actions, 0, ref context, _pipeline.ExecutionStats);
        Exit();
    }

    /// <summary>
    /// Revalidates the megaflows (see <see cref="PmdPipeline.Revalidate"/>) with the configured
    /// idle time: call it after the OpenFlow tables, the ports or the learned MACs changed, and
    /// periodically for idle expiry, always between batches, so that the next batch sees no stale flow.
    /// Packets waiting for a conntrack answer keep the actions they started with (as in Open vSwitch);
    /// if their megaflow dies meanwhile, the recirculation id in those actions may be freed, so their
    /// recirculated pass fails its upcall and is dropped, or, should the id be reused before they
    /// return, resumes the wrong continuation: an owner with answers outstanding should hold off
    /// (or keep the ids referenced) until <see cref="OutstandingConntrack"/> is zero.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called while a batch is being processed.</exception>
    public RevalidationResult Revalidate(IFlowRevalidator revalidator, long nowMs)
    {
        ThrowIfBusy();
        return _pipeline.Revalidate(revalidator, nowMs, _idleMs);
    }

    /// <summary>Credits the megaflows' traffic since the last push to the rules they came from; between batches.</summary>
    /// <exception cref="InvalidOperationException">Called while a batch is being processed.</exception>
    public void PushStatistics(IFlowRevalidator revalidator)
    {
        ThrowIfBusy();
        _pipeline.PushStatistics(revalidator);
    }

    /// <summary>
    /// Continues the packets of the answered inputs of a conntrack request: each input's packets take
    /// its result's ct fields and go on with the actions after the ct action. Answers for an
    /// unknown request or an input answered before are ignored and counted.
    /// </summary>
    public void CompleteConntrack(long requestId, ReadOnlySpan<int> indices, ReadOnlySpan<ConntrackResult> results)
    {
        if (indices.Length != results.Length)
        {
            throw new ArgumentException("One result per index.", nameof(results));
        }

        if (!_outstanding.TryGetValue(requestId, out var request))
        {
            Stats.StaleConntrackAnswers += indices.Length;
            return;
        }

        Enter(Math.Max(_nowMs, request.NowMs));
        var context = new Context(this);

        // Consecutive inputs that continue the same way run as one batch; order is kept.
        var continuing = _batches.Rent();
        ActionList? actions = null;
        int resumeAt = 0;
        for (int k = 0; k < indices.Length; k++)
        {
            int index = indices[k];
            if (!request.Answer(index))
            {
                Stats.StaleConntrackAnswers++;
                continue;
            }

            ref readonly var result = ref results[k];
            var nextActions = request.ActionsOf(index);
            int nextResumeAt = request.ResumeAtOf(index);
            foreach (var packet in request.PacketsOf(index))
            {
                if (result.Drop)
                {
                    Stats.ConntrackLimitDrops++;
                    Recycle(packet);
                    continue;
                }

                result.ApplyTo(ref packet.Metadata);
                if (continuing.Count > 0 && (continuing.IsFull || !ReferenceEquals(actions, nextActions) || resumeAt != nextResumeAt))
                {
                    ActionExecutor.Execute(continuing, actions!, resumeAt, ref context, _pipeline.ExecutionStats);
                    continuing = _batches.Rent();
                }

                actions = nextActions;
                resumeAt = nextResumeAt;
                continuing.Add(packet);
            }
        }

        if (continuing.Count > 0)
        {
            ActionExecutor.Execute(continuing, actions!, resumeAt, ref context, _pipeline.ExecutionStats);
        }
        else
        {
            _batches.Return(continuing);
        }

        if (request.Unanswered == 0)
        {
            _outstanding.Remove(requestId);
            Recycle(request);
        }

        Exit();
    }

    /// <summary>
    /// Gives up on inputs whose answer will never come (the stage lost it): their packets are dropped
    /// and counted. Inputs answered already, or an unknown request, are ignored.
    /// </summary>
    public void AbandonConntrack(long requestId, ReadOnlySpan<int> indices)
    {
        if (!_outstanding.TryGetValue(requestId, out var request))
        {
            return;
        }

        foreach (int index in indices)
        {
            if (!request.Answer(index))
            {
                continue;
            }

            foreach (var packet in request.PacketsOf(index))
            {
                Stats.ConntrackAnswersLost++;
                Recycle(packet);
            }
        }

        if (request.Unanswered == 0)
        {
            _outstanding.Remove(requestId);
            Recycle(request);
        }
    }

    /// <summary>
    /// Returns every packet this core still holds (waiting for conntrack, or fragments waiting for
    /// their datagram) to its pool, when the owner stops: they are lost, not leaked.
    /// </summary>
    /// <returns>The number of packets given back.</returns>
    public int ReleaseHeldPackets()
    {
        int released = 0;
        foreach (var request in _outstanding.Values)
        {
            for (int i = 0; i < request.Count; i++)
            {
                if (request.Answer(i))
                {
                    foreach (var packet in request.PacketsOf(i))
                    {
                        Recycle(packet);
                        released++;
                    }
                }
            }
        }

        _outstanding.Clear();
        _expired.Clear();
        _reassembler.Clear(_expired);
        foreach (var fragment in _expired)
        {
            Recycle(fragment);
            released++;
        }

        _expired.Clear();
        return released;
    }

    /// <summary>
    /// Conntrack says <paramref name="connection"/> left the established state (or the table): its
    /// combined flows (both directions) go, and its next packets recirculate until one builds a new
    /// one. Returns how many were removed. Safe at any time: a packet already past the lookup keeps
    /// its actions, and its guard still decides.
    /// </summary>
    public int RevokeShortcuts(in ConntrackKey connection, uint connectionHash) =>
        _pipeline.RevokeConnection(in connection, connectionHash);

    void IShortcutObserver.Installed(Shortcut shortcut) =>
        _conntrack.WatchShortcut(in shortcut.Connection, shortcut.ConnectionHash, this);

    /// <summary>Answers every input of a request at once, in order (a synchronous stage's answer).</summary>
    public void CompleteConntrack(long requestId, ReadOnlySpan<ConntrackResult> results) =>
        CompleteConntrack(requestId, Identity.AsSpan(0, results.Length), results);

    /// <summary>Frees fragments whose datagram timed out (call periodically).</summary>
    public void ExpireFragments(long nowMs)
    {
        _expired.Clear();
        Stats.FragmentsDropped += _reassembler.Expire(nowMs, _expired);
        foreach (var packet in _expired)
        {
            Recycle(packet);
        }
    }

    private void ThrowIfBusy()
    {
        if (_busy != 0)
        {
            throw new InvalidOperationException("Megaflows can only be revalidated between batches.");
        }
    }

    private void Enter(long nowMs)
    {
        _busy++;
        _nowMs = nowMs;
    }

    /// <summary>
    /// Leaving the outermost call: run the recirculations it queued, in order, and send the
    /// conntrack requests gathered meanwhile (a synchronous stage answers at once, which may queue
    /// more of both), until nothing is left.
    /// </summary>
    private void Exit()
    {
        if (_busy == 1)
        {
            var context = new Context(this);
            do
            {
                while (_queued.TryDequeue(out var next))
                {
                    if (next.Actions is null)
                    {
                        _pipeline.Process(next.Batch, _nowMs, ref context);
                        _batches.Return(next.Batch);
                    }
                    else
                    {
                        ActionExecutor.Execute(next.Batch, next.Actions, next.ResumeAt, ref context, _pipeline.ExecutionStats);
                    }
                }

                SubmitGathered();
            }
            while (_queued.Count > 0);
        }

        _busy--;
    }

    /// <summary>Sends every gathered request (in the order they were opened).</summary>
    private void SubmitGathered()
    {
        while (_gathering.Count > 0)
        {
            var request = _gathering[0];
            _gathering.RemoveAt(0);
            Submit(request);
        }
    }

    /// <summary>
    /// ct(args): fragments wait in the reassembler; everything else (and each completed datagram,
    /// standing for all its fragments) becomes one input of a request to the conntrack stage.
    /// </summary>
    private void SubmitConntrack(PacketBatch batch, in ConntrackArgs args, ActionList actions, int resumeAt)
    {
        var request = Gathering(in args);
        foreach (var packet in batch.Packets)
        {
            // The pass that led here extracted the packet and recorded what conntrack reads (offsets,
            // ethertype, fragment bits); actions before a ct do not move or refragment headers.
            switch (_reassembler.Offer(packet, packet.EthType, packet.NwFrag, args.Zone, _nowMs, out var datagram))
            {
                case FragmentVerdict.Held:
                    Stats.FragmentsHeld++;
                    continue;

                case FragmentVerdict.Dropped:
                    DropRefusedFragments(packet);
                    continue;

                case FragmentVerdict.Completed:
                    Stats.DatagramsReassembled++;
                    var whole = datagram!.Datagram;
                    FlowExtractor.Extract(whole, ref _ctKey, _ctExtraction);
                    ConntrackInput.TryParse(whole, in _ctKey, args.Zone, out var wholeInput);
                    request.Add(in wholeInput, actions, resumeAt, packet.PassSequence).AddRange(datagram.Fragments);
                    _reassembler.Release(datagram);
                    break;

                default:
                    ConntrackInput.TryParse(packet, args.Zone, out var input);
                    request.Add(in input, actions, resumeAt, packet.PassSequence).Add(packet);
                    break;
            }

            if (request.IsFull)
            {
                _gathering.Remove(request);
                Submit(request);
                request = Gathering(in args);
            }
        }

        batch.Clear();
        _batches.Return(batch);
    }

    /// <summary>The request gathering inputs for these ct arguments (opened when there is none).</summary>
    private ConntrackRequest Gathering(in ConntrackArgs args)
    {
        foreach (var open in _gathering)
        {
            if (open.Args == args)
            {
                return open;
            }
        }

        var request = _spareRequests.Count > 0 ? _spareRequests.Pop() : new ConntrackRequest();
        request.Start(++_nextRequestId, in args, _nowMs);
        _gathering.Add(request);
        return request;
    }

    private void Submit(ConntrackRequest request)
    {
        if (request.Count == 0)
        {
            _spareRequests.Push(request);
            return;
        }

        _outstanding.Add(request.Id, request);
        Stats.ConntrackRequests++;
        _conntrack.Submit(request, this);
    }

    private void Recycle(ConntrackRequest request)
    {
        request.ForgetActions();
        _spareRequests.Push(request);
    }

    private void DropRefusedFragments(Packet packet)
    {
        Stats.FragmentsDropped += 1 + _reassembler.DroppedWithDatagram.Count;
        Recycle(packet);
        foreach (var fragment in _reassembler.DroppedWithDatagram)
        {
            Recycle(fragment);
        }

        _reassembler.DroppedWithDatagram.Clear();
    }

    private void Recirculate(PacketBatch batch)
    {
        int kept = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            var packet = batch[i];
            if (packet.Metadata.RecircDepth > _maxDepth)
            {
                Stats.RecirculationDepthExceeded++;
                Recycle(packet);
                continue;
            }

            batch.Set(kept++, packet);
        }

        batch.Truncate(kept);
        _queued.Enqueue(new Work(batch, null, 0));
    }

    private void Release(PacketBatch batch)
    {
        foreach (var packet in batch.Packets)
        {
            Recycle(packet);
        }

        batch.Clear();
        _batches.Return(batch);
    }

    /// <summary>
    /// A combined flow's guard (see <see cref="CtGuard"/>): passing packets are credited to the
    /// recirculated megaflow and continue after the guard; failing ones recirculate with the
    /// fallback id, and their combined flow is removed. Both are queued in runs, in order, behind
    /// the work in progress, as the recirculated passes they stand for would be.
    /// </summary>
    private void Guard(PacketBatch batch, CtGuard guard, ActionList actions, int resumeAt)
    {
        PacketBatch? run = null;
        bool runPasses = false;
        foreach (var packet in batch.Packets)
        {
            bool passes = guard.Passes(in packet.Metadata);
            if (passes)
            {
                guard.Recirculated.Stats.Add(packet.Length, packet.BypassTcpFlags, _nowMs);
            }
            else
            {
                _pipeline.Stats.ShortcutFallbacks++;
                _pipeline.RevokeFailedGuard(packet);
                packet.Metadata.RecircId = guard.FallbackRecircId;
                packet.Metadata.RecircDepth++;
                _pipeline.ExecutionStats.PacketsRecirculated++;
            }

            if (run is not null && runPasses != passes)
            {
                QueueGuarded(run, runPasses, actions, resumeAt);
                run = null;
            }

            run ??= _batches.Rent();
            runPasses = passes;
            run.Add(packet);
        }

        if (run is not null)
        {
            QueueGuarded(run, runPasses, actions, resumeAt);
        }

        batch.Clear();
        _batches.Return(batch);
    }

    private void QueueGuarded(PacketBatch run, bool passed, ActionList actions, int resumeAt)
    {
        if (passed)
        {
            _queued.Enqueue(new Work(run, actions, resumeAt));
        }
        else
        {
            Recirculate(run);
        }
    }

    /// <summary>
    /// The last output of an action list: the sink takes the packets themselves when it can (a
    /// port's thread-safe pool gets them back after sending), saving a copy and a pool round trip;
    /// otherwise it gets copies and the packets go back to their pool.
    /// </summary>
    private void OutputLast(uint port, PacketBatch batch)
    {
        foreach (var packet in batch.Packets)
        {
            if (packet.Pool is not { IsThreadSafe: true } || !_sink.TryTake(port, packet))
            {
                _sink.Transmit(port, packet);
                Recycle(packet);
            }
        }

        batch.Clear();
        _batches.Return(batch);
    }

    /// <summary>Packets go back to the pool they came from: this PMD's, or a port's.</summary>
    private void Recycle(Packet packet) => (packet.Pool ?? _packets).Return(packet);

    /// <summary>A batch waiting its turn: a pipeline pass (no actions), or actions to continue from an index.</summary>
    private readonly record struct Work(PacketBatch Batch, ActionList? Actions, int ResumeAt);

    /// <summary>The action context: a thin struct so the executor's calls are specialised.</summary>
    private readonly struct Context(PmdCore owner) : IActionContext
    {
        public void Output(uint port, Packet packet) => owner._sink.Transmit(port, packet);

        public void OutputLast(uint port, PacketBatch batch) => owner.OutputLast(port, batch);

        public void Conntrack(PacketBatch batch, in ConntrackArgs args, ActionList actions, int resumeAt) =>
            owner.SubmitConntrack(batch, in args, actions, resumeAt);

        public void Recirculate(PacketBatch batch) => owner.Recirculate(batch);

        public void Userspace(Packet packet, uint cookie) => owner._sink.Userspace(packet, cookie);

        public void Release(PacketBatch batch) => owner.Release(batch);

        public void Drop(Packet packet) => owner.Recycle(packet);

        public void Guard(PacketBatch batch, CtGuard guard, ActionList actions, int resumeAt) => owner.Guard(batch, guard, actions, resumeAt);
    }
}
