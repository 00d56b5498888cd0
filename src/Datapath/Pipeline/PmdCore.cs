using Datapath.Actions;
using Datapath.Bypass;
using Datapath.Caches;
using Datapath.Classifier;
using Datapath.Conntrack;
using Datapath.Conntrack.Fragments;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Stats;
using Datapath.Upcalls;

namespace Datapath.Pipeline;

/// <summary>
/// Everything one PMD does to packets, as a plain class its owner drives (the actor PMD, or the
/// single-threaded <see cref="InlineDatapath"/>). It puts the parts together and owns the order of
/// work: the <see cref="PmdPipeline"/> with its upcalls and bypass; ct actions gathered
/// (<see cref="ConntrackGatherer"/>, fragments reassembled first) and sent to an
/// <see cref="IConntrackStage"/>; their answers continued (<see cref="ConntrackContinuations"/>);
/// recirculation and guarded runs queued behind the call in progress
/// (<see cref="RecirculationQueue"/>) and run when the owner's outermost call unwinds, because the
/// pipeline's scratch belongs to one batch at a time; transmission (<see cref="OutputStage"/>).
/// Not thread-safe: one owner.
/// </summary>
public sealed class PmdCore : IConntrackAnswers, IContinuationRunner
{
    private static readonly int[] Identity = Enumerable.Range(0, PacketBatch.MaxSize).ToArray();

    private readonly PmdPipeline _pipeline;
    private readonly IRecirculationBypass _bypass;
    private readonly PmdPackets _packets;
    private readonly RecirculationQueue _queue;
    private readonly ReassemblyStage _reassembly;
    private readonly ConntrackGatherer _gatherer;
    private readonly ConntrackContinuations _continuations;
    private readonly PmdClock _clock = new();
    private readonly long _idleMs;
    private PmdActionContext _context;
    private int _busy;

    /// <param name="upcall">The slow path.</param>
    /// <param name="conntrack">Makes the conntrack stage, given what it answers to (called once, here).</param>
    /// <param name="sink">Where transmitted packets go.</param>
    /// <param name="options">The configured options (no defaults of their own: the embedded datapath.conf holds them).</param>
    public PmdCore(IUpcallHandler upcall, Func<IConntrackAnswers, IConntrackStage> conntrack, IPacketSink sink, PmdCoreOptions options, IpReassembler? reassembler = null)
    {
        ArgumentNullException.ThrowIfNull(upcall);
        ArgumentNullException.ThrowIfNull(conntrack);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(options);
        var batches = new PacketBatchPool();
        var requests = new ConntrackRequestPool();
        _packets = new PmdPackets(options.PacketPoolSize, batches, Stats);
        _queue = new RecirculationQueue(options.MaxRecirculationDepth, _packets, Stats);
        _continuations = new ConntrackContinuations(this, requests, _packets, Stats);
        var stage = conntrack(this) ?? throw new ArgumentException("The factory made no conntrack stage.", nameof(conntrack));

        var stats = new PmdStats();
        var emc = options.EmcEntries == 0 ? null : new ExactMatchCache(options.EmcEntries, options.EmcInsertInvProb);
        _bypass = RecirculationBypass.Create(options.Bypass, emc, stats, stage, options.MaxBypassFlows);
        _pipeline = new PmdPipeline(emc, new MegaflowClassifier(), upcall, batches, _bypass, stats);

        _reassembly = new ReassemblyStage(reassembler ?? new IpReassembler(), _packets, Stats);
        _gatherer = new ConntrackGatherer(stage, _continuations, requests, _reassembly, Stats, batches, _clock);
        var guard = new GuardStage(_bypass, stats, _pipeline.ExecutionStats, _queue, batches, _clock);
        _context = new PmdActionContext(new OutputStage(sink, _packets), _gatherer, _queue, guard, _packets);
        _idleMs = options.MegaflowIdleMs;
    }

    public IpReassembler Reassembler => _reassembly.Reassembler;

    public PmdCoreStats Stats { get; } = new();

    /// <summary>The pipeline, for tests and benchmarks of this library; owners read <see cref="Snapshot"/>.</summary>
    internal PmdPipeline Pipeline => _pipeline;

    /// <summary>The recirculation bypass (its mode and how many bypass flows it holds).</summary>
    public IRecirculationBypass Bypass => _bypass;

    /// <summary>Conntrack requests sent and not fully answered.</summary>
    public int OutstandingConntrack => _continuations.Outstanding;

    /// <summary>Packets waiting for a conntrack answer (lost if the owner dies now).</summary>
    public int PacketsInFlight => _continuations.PacketsWaiting;

    /// <summary>The megaflows installed now (for dumps; not while a batch runs).</summary>
    public MegaflowClassifier.FlowEnumerable Megaflows => _pipeline.Classifier.Flows;

    /// <summary>A packet from this PMD's pool, holding <paramref name="frame"/> as received on <paramref name="inPort"/>.</summary>
    public bool TryReceive(ReadOnlySpan<byte> frame, uint inPort, out Packet packet) => _packets.TryReceive(frame, inPort, out packet);

    /// <summary>Runs a received batch (packets from <see cref="TryReceive"/> or a port's pool); leaves it empty.</summary>
    public void Process(PacketBatch batch, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Enter(nowMs);
        _pipeline.Process(batch, nowMs, ref _context);
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
        var batch = _packets.Batches.Rent();
        batch.Add(packet);
        ActionExecutor.Execute(batch, actions, 0, ref _context, _pipeline.ExecutionStats);
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

    /// <summary>The counters now, copied (pmd-stats-show, metrics).</summary>
    public PmdCoreSnapshot Snapshot()
    {
        var execution = _pipeline.ExecutionStats;
        return new(_pipeline.Stats.Copy(), Stats.Copy(), _pipeline.Classifier.Count, PacketsInFlight, Drops())
        {
            PacketsSent = execution.PacketsSent,
            PacketsHeld = PacketsInFlight + _reassembly.Reassembler.HeldFragments,
            Outputs = execution.PacketsOutput,
            ToUserspace = execution.PacketsToUserspace,
            Malformed = Malformed(),
        };
    }

    /// <summary>Adds time the owner measured processing this core's work (pmd-stats-show's processing ns).</summary>
    public void AddProcessingTime(long nanoseconds) => _pipeline.Stats.ProcessingNs += nanoseconds;

    /// <summary>
    /// pmd-stats-clear: zeroes the pipeline's counters, sent and drops included. The packets held at
    /// this moment were received before and will be sent or dropped after: they start the new
    /// received count, so that received = sent + dropped + held holds from the clear on.
    /// </summary>
    public void ClearStatistics()
    {
        long held = PacketsInFlight + _reassembly.Reassembler.HeldFragments;
        _pipeline.Stats.Clear();
        _pipeline.Stats.PacketsReceived = held;
        _pipeline.ExecutionStats.Reset();
        Stats.Clear();
    }

    /// <summary>
    /// Returns every packet this core still holds (waiting for conntrack, or fragments waiting for
    /// their datagram) to its pool, when the owner stops: they are lost, not leaked.
    /// </summary>
    /// <returns>The number of packets given back.</returns>
    public int ReleaseHeldPackets() => _continuations.ReleaseAll() + _reassembly.ReleaseHeld();

    /// <summary>Frees fragments whose datagram timed out (call periodically).</summary>
    public void ExpireFragments(long nowMs) => _reassembly.Expire(nowMs);

    void IConntrackAnswers.Complete(long requestId, ReadOnlySpan<int> indices, ReadOnlySpan<ConntrackResult> results)
    {
        if (indices.Length != results.Length)
        {
            throw new ArgumentException("One result per index.", nameof(results));
        }

        if (!_continuations.TryFind(requestId, indices.Length, out var request))
        {
            return;
        }

        Enter(Math.Max(_clock.NowMs, request.NowMs));
        _continuations.Continue(request, indices, results);
        Exit();
    }

    void IConntrackAnswers.Complete(long requestId, ReadOnlySpan<ConntrackResult> results) =>
        ((IConntrackAnswers)this).Complete(requestId, Identity.AsSpan(0, results.Length), results);

    void IConntrackAnswers.Abandon(long requestId, ReadOnlySpan<int> indices) => _continuations.Abandon(requestId, indices);

    int IConntrackAnswers.RevokeBypassFlows(in ConntrackKey connection, uint connectionHash) => _bypass.Revoke(in connection, connectionHash);

    void IContinuationRunner.Continue(PacketBatch batch, ActionList actions, int resumeAt) =>
        ActionExecutor.Execute(batch, actions, resumeAt, ref _context, _pipeline.ExecutionStats);

    /// <summary>Every way a received packet ends without being sent, one counter each (they add up with the sent and the held to the received).</summary>
    private Dictionary<string, long> Drops() => new()
    {
        ["upcall failed"] = _pipeline.Stats.UpcallsFailed,
        ["drop action"] = _pipeline.ExecutionStats.PacketsDropped,
        ["recirculation too deep"] = Stats.RecirculationDepthExceeded,
        ["conntrack limit"] = Stats.ConntrackLimitDrops,
        ["conntrack answer lost"] = Stats.ConntrackAnswersLost,
        ["fragment refused or expired"] = Stats.FragmentsDropped,
        ["no headroom for vlan"] = _pipeline.ExecutionStats.PacketsDroppedNoHeadroom,
    };

    private Dictionary<string, long> Malformed()
    {
        var malformed = new Dictionary<string, long>();
        foreach (var reason in Enum.GetValues<MalformedReason>())
        {
            long count = _pipeline.ExtractionStats[reason];
            if (count > 0)
            {
                malformed[reason.ToString()] = count;
            }
        }

        return malformed;
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
        _clock.NowMs = nowMs;
    }

    /// <summary>
    /// Leaving the outermost call: run the work it queued, in order, and send the conntrack
    /// requests gathered meanwhile (a stage that answers in place answers at once, which may queue
    /// more of both), until nothing is left.
    /// </summary>
    private void Exit()
    {
        if (_busy == 1)
        {
            do
            {
                while (_queue.TryDequeue(out var next))
                {
                    if (next.Actions is null)
                    {
                        _pipeline.Process(next.Batch, _clock.NowMs, ref _context);
                        _packets.Batches.Return(next.Batch);
                    }
                    else
                    {
                        ActionExecutor.Execute(next.Batch, next.Actions, next.ResumeAt, ref _context, _pipeline.ExecutionStats);
                    }
                }

                _gatherer.SubmitGathered();
            }
            while (_queue.Count > 0);
        }

        _busy--;
    }
}
