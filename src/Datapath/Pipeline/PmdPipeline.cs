using Datapath.Actions;
using Datapath.Bypass;
using Datapath.Caches;
using Datapath.Classifier;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Stats;
using Datapath.Upcalls;

namespace Datapath.Pipeline;

/// <summary>
/// The per-PMD batch pipeline (the analogue of dp_netdev_input__: dfc_processing ->
/// fast_path_processing -> handle_packet_upcall -> packet_batch_per_flow_execute).
/// It owns one EMC and one megaflow classifier that nothing else touches, and scratch arrays
/// sized to one batch. Packets leave through the action context; misses are compacted to the
/// front of a scratch index map, and each packet's megaflow is noted by its arrival position and
/// batched only once every lookup is done, so arrival order is kept within each flow whichever
/// stage found it (as OVS's packet_enqueue_to_flow_map does). The recirculation bypass is one
/// collaborator behind <see cref="IRecirculationBypass"/>, called once per batch at fixed points:
/// before the EMC, after an EMC miss, when the pass's packets have their flows, and after
/// revalidation removed megaflows; the pipeline itself knows no bypass mode.
/// </summary>
public sealed partial class PmdPipeline
{
    private const int Max = PacketBatch.MaxSize;

    private readonly ExactMatchCache? _emc;
    private readonly MegaflowClassifier _classifier;
    private readonly IUpcallHandler _upcall;
    private readonly PacketBatchPool _batches;

    // Scratch, one slot per packet of the batch being processed.
    private readonly FlowKey[] _keys = new FlowKey[Max];
    private readonly uint[] _hashes = new uint[Max];
    private readonly int[] _missIndex = new int[Max];
    private readonly FlowKey[] _missKeys = new FlowKey[Max];
    private readonly Megaflow?[] _missFlows = new Megaflow?[Max];

    // The megaflow of each packet by arrival position; null for a failed upcall.
    private readonly Megaflow?[] _packetFlows = new Megaflow?[Max];

    // One output batch per distinct action list of the input batch, in order of first appearance.
    // Flows are batched by their actions, not by identity: statistics are credited per packet in
    // Queue, and the bypass flows of one pair of megaflows (one per connection direction) share
    // one action list, so a batch of many connections still runs their ct as one batch.
    private readonly ActionList[] _flowOf = new ActionList[Max];
    private readonly PacketBatch[] _flowBatch = new PacketBatch[Max];
    private int _flowCount;

    // Packets whose upcall failed, released after the batch.
    private PacketBatch? _failed;

    private readonly IRecirculationBypass _bypass;
    private long _passSequence;

    /// <param name="emc">The exact-match cache, or null when the EMC is turned off.</param>
    /// <param name="bypass">The recirculation bypass (it shares <paramref name="emc"/> and <paramref name="stats"/>); off when null.</param>
    /// <param name="stats">The counters this pipeline and its bypass write; new ones when null.</param>
    public PmdPipeline(ExactMatchCache? emc, MegaflowClassifier classifier, IUpcallHandler upcall, PacketBatchPool batches, IRecirculationBypass? bypass = null, PmdStats? stats = null)
    {
        _emc = emc;
        _classifier = classifier;
        _upcall = upcall;
        _batches = batches;
        _bypass = bypass ?? new NoBypass();
        Stats = stats ?? new PmdStats();
    }

    public IRecirculationBypass Bypass => _bypass;

    public PmdStats Stats { get; }

    public ExtractionStats ExtractionStats { get; } = new();

    public ExecutionStats ExecutionStats { get; } = new();

    public MegaflowClassifier Classifier => _classifier;

    public ExactMatchCache? Emc => _emc;

    /// <summary>
    /// Classifies and executes one batch. The packets move on to the context (output, conntrack,
    /// recirculation, release); <paramref name="input"/> is left empty for the caller to reuse.
    /// </summary>
    /// <param name="nowMs">The owner's clock, credited to megaflow statistics.</param>
    public void Process<TContext>(PacketBatch input, long nowMs, ref TContext ctx)
        where TContext : IActionContext
    {
        int count = input.Count;
        if (count == 0)
        {
            return;
        }

        Stats.Batches++;
        _flowCount = 0;
        int misses = LookupExact(input);
        if (misses > 0)
        {
            misses = LookupMegaflows(misses);
        }

        for (int m = 0; m < misses; m++)
        {
            HandleUpcall(input[_missIndex[m]], _missIndex[m]);
        }

        if (_failed is not null)
        {
            ctx.Release(_failed);
            _failed = null;
        }

        _bypass.OnClassified(input.Packets, _packetFlows.AsSpan(0, count), _keys.AsSpan(0, count));
        BatchByFlow(input, nowMs);
        input.Clear();
        ExecuteFlows(ref ctx);
    }

    /// <summary>
    /// Extraction, then the bypass's exact lookup, then the EMC for the rest; notes hits and compacts
    /// misses. Returns the miss count.
    /// </summary>
    private int LookupExact(PacketBatch input)
    {
        var packets = input.Packets;
        for (int i = 0; i < packets.Length; i++)
        {
            var packet = packets[i];
            if (packet.Metadata.RecircId == 0)
            {
                Stats.PacketsReceived++;
            }
            else
            {
                Stats.Recirculations++;
            }

            packet.PassSequence = ++_passSequence;
            ref var key = ref _keys[i];
            FlowExtractor.Extract(packet, ref key, ExtractionStats);
            _hashes[i] = FlowHash.Hash(in key);
        }

        // _packetFlows is all null here (BatchByFlow clears what it queues).
        int found = _bypass.LookupBeforeEmc(packets, _keys.AsSpan(0, packets.Length), _hashes.AsSpan(0, packets.Length), _packetFlows.AsSpan(0, packets.Length));
        int misses = 0;
        for (int i = 0; i < packets.Length; i++)
        {
            if (found > 0 && _packetFlows[i] is not null)
            {
                continue;
            }

            var flow = _emc?.Lookup(in _keys[i], _hashes[i]);
            _packetFlows[i] = flow;
            if (flow is not null)
            {
                if (flow.IsBypassFlow)
                {
                    Stats.BypassHits++;
                }
                else
                {
                    Stats.EmcHits++;
                }
            }
            else
            {
                _missIndex[misses++] = i;
            }
        }

        return misses;
    }

    /// <summary>
    /// The bypass's lookup, then the megaflow lookup of the EMC misses; notes hits, leaves the rest
    /// compacted. Returns the remaining misses.
    /// </summary>
    private int LookupMegaflows(int misses)
    {
        misses = _bypass.LookupAfterEmc(_keys, _hashes, _missIndex, misses, _packetFlows);
        if (misses == 0)
        {
            return 0;
        }

        for (int m = 0; m < misses; m++)
        {
            _missKeys[m] = _keys[_missIndex[m]];
        }

        var found = _missFlows.AsSpan(0, misses);
        long probesBefore = _classifier.SubtableLookups;
        _classifier.LookupBatch(_missKeys.AsSpan(0, misses), found);
        Stats.SubtableLookups += _classifier.SubtableLookups - probesBefore;

        int remaining = 0;
        for (int m = 0; m < misses; m++)
        {
            int i = _missIndex[m];
            var flow = found[m];
            if (flow is null)
            {
                _missIndex[remaining++] = i;
                continue;
            }

            Stats.MegaflowHits++;
            _emc?.ProbabilisticInsert(in _keys[i], _hashes[i], flow);
            _packetFlows[i] = flow;
        }

        found.Clear();
        return remaining;
    }

    /// <summary>
    /// Translates a miss and installs its megaflow. An earlier miss of the same batch may already
    /// have installed a megaflow covering this packet, so look again first (as OVS does under its flow mutex).
    /// </summary>
    private void HandleUpcall(Packet packet, int index)
    {
        ref var key = ref _keys[index];
        long probesBefore = _classifier.SubtableLookups;
        var flow = _classifier.Lookup(in key);
        Stats.SubtableLookups += _classifier.SubtableLookups - probesBefore;
        if (flow is null)
        {
            if (!_upcall.Upcall(in key, packet, out var mask, out var actions, out var origin))
            {
                // Counted here; the packets go back to their owner with the rest of the batch's drops.
                Stats.UpcallsFailed++;
                _failed ??= _batches.Rent();
                _failed.Add(packet);
                return;
            }

            Stats.UpcallsOk++;
            flow = new Megaflow(in key, in mask, actions) { Origin = origin };
            _classifier.Insert(flow);
        }
        else
        {
            Stats.MegaflowHits++;
        }

        _emc?.ProbabilisticInsert(in key, _hashes[index], flow);
        _packetFlows[index] = flow;
    }

    /// <summary>Queues every packet that has a megaflow to its flow's batch, in arrival order.</summary>
    private void BatchByFlow(PacketBatch input, long nowMs)
    {
        var packets = input.Packets;
        for (int i = 0; i < packets.Length; i++)
        {
            var flow = _packetFlows[i];
            if (flow is not null)
            {
                _packetFlows[i] = null;
                Queue(packets[i], flow, in _keys[i], nowMs);
            }
        }
    }

    private void Queue(Packet packet, Megaflow flow, in FlowKey key, long nowMs)
    {
        // A bypass flow's packets count for the original megaflow here and for the recirculated
        // one when they pass the guard: statistics read as if they had recirculated.
        if (flow.BypassOriginal is { } original)
        {
            original.Stats.Add(packet.Length, key.TcpFlags, nowMs);
            packet.PassTcpFlags = key.TcpFlags;
        }
        else
        {
            flow.Stats.Add(packet.Length, key.TcpFlags, nowMs);
        }
        for (int f = 0; f < _flowCount; f++)
        {
            if (ReferenceEquals(_flowOf[f], flow.Actions))
            {
                _flowBatch[f].Add(packet);
                return;
            }
        }

        var batch = _batches.Rent();
        batch.Add(packet);
        _flowOf[_flowCount] = flow.Actions;
        _flowBatch[_flowCount++] = batch;
    }

    private void ExecuteFlows<TContext>(ref TContext ctx)
        where TContext : IActionContext
    {
        for (int f = 0; f < _flowCount; f++)
        {
            var batch = _flowBatch[f];
            var actions = _flowOf[f];
            _flowOf[f] = null!;
            _flowBatch[f] = null!;
            ActionExecutor.Execute(batch, actions, 0, ref ctx, ExecutionStats);
        }

        _flowCount = 0;
    }
}
