using Datapath.Actions;
using Datapath.Caches;
using Datapath.Classifier;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Stats;

namespace Datapath.Pipeline;

/// <summary>
/// The per-PMD batch pipeline (the analogue of dp_netdev_input__: dfc_processing ->
/// fast_path_processing -> handle_packet_upcall -> packet_batch_per_flow_execute).
/// It owns one EMC and one megaflow classifier that nothing else touches, and scratch arrays
/// sized to one batch. Packets leave through the action context; misses are compacted to the
/// front of a scratch index map, and each packet's megaflow is noted by its arrival position and
/// batched only once every lookup is done, so arrival order is kept within each flow whichever
/// stage found it (as OVS's packet_enqueue_to_flow_map does).
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
    // Queue, and the combined flows of one pair of megaflows (one per connection direction) share
    // one action list, so a batch of many connections still runs their ct as one batch.
    private readonly ActionList[] _flowOf = new ActionList[Max];
    private readonly PacketBatch[] _flowBatch = new PacketBatch[Max];
    private int _flowCount;

    // Packets whose upcall failed, released after the batch.
    private PacketBatch? _failed;

    // Recirculation bypass: null when it is off.
    private readonly ShortcutTable? _shortcuts;
    private readonly ShortcutBuilder? _builder;
    private readonly bool _shortcutsInEmcOnly;

    // Combined megaflows (one per pair of megaflows, masked: shared by every connection), looked up
    // before the megaflow classifier; null unless the bypass runs in megaflow mode.
    private readonly MegaflowClassifier? _combined;
    private IShortcutObserver? _observer;
    private long _passSequence;

    /// <param name="emc">The exact-match cache, or null when the EMC is turned off.</param>
    /// <param name="shortcuts">The combined flows (recirculation bypass), or null when the bypass is off.</param>
    /// <param name="shortcutsInEmcOnly">
    /// Look combined flows up through the EMC alone (the seed patch's way: they are inserted there
    /// always and evicted like any entry) instead of the shortcut table first.
    /// </param>
    /// <param name="combinedMegaflows">
    /// Build combined flows as masked megaflows shared by every connection through the same pair of
    /// megaflows, kept in a classifier of their own looked up before the megaflow classifier,
    /// instead of one exact-match flow per connection direction (<paramref name="shortcuts"/> is
    /// then only the switch that turns the bypass on). No per-connection state: a connection that
    /// leaves the established state simply fails the guard.
    /// </param>
    public PmdPipeline(ExactMatchCache? emc, MegaflowClassifier classifier, IUpcallHandler upcall, PacketBatchPool batches, ShortcutTable? shortcuts = null, bool shortcutsInEmcOnly = false, bool combinedMegaflows = false)
    {
        _combined = shortcuts is not null && combinedMegaflows ? new MegaflowClassifier() : null;
        _emc = emc;
        _classifier = classifier;
        _upcall = upcall;
        _batches = batches;
        _shortcuts = shortcuts;
        _builder = shortcuts is null ? null : new ShortcutBuilder();
        _shortcutsInEmcOnly = shortcutsInEmcOnly && emc is not null;
    }

    /// <summary>The combined flows, or null when the bypass is off.</summary>
    public ShortcutTable? Shortcuts => _shortcuts;

    /// <summary>The combined megaflows (megaflow mode), or null.</summary>
    public MegaflowClassifier? CombinedMegaflows => _combined;

    /// <summary>Told of every combined flow installed (its owner watches the connection); set once by the owner.</summary>
    internal IShortcutObserver? ShortcutObserver { set => _observer = value; }

    public PmdStats Stats { get; } = new();

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

        BatchByFlow(input, nowMs);
        input.Clear();
        ExecuteFlows(ref ctx);
    }

    /// <summary>Extraction and EMC lookup; notes hits and compacts misses. Returns the miss count.</summary>
    private int LookupExact(PacketBatch input)
    {
        int misses = 0;
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
            if (_shortcuts is not null && !_shortcutsInEmcOnly && _combined is null && packet.Metadata.RecircId == 0
                && _shortcuts.Lookup(in key, _hashes[i]) is { } combined)
            {
                Stats.ShortcutHits++;
                _packetFlows[i] = combined;
                continue;
            }

            var flow = _emc?.Lookup(in key, _hashes[i]);
            _packetFlows[i] = flow;
            if (flow is not null)
            {
                if (flow.Shortcut is null)
                {
                    Stats.EmcHits++;
                }
                else
                {
                    Stats.ShortcutHits++;
                }
            }
            else
            {
                _missIndex[misses++] = i;
            }
        }

        return misses;
    }

    /// <summary>Megaflow lookup of the EMC misses; notes hits, leaves the rest compacted. Returns the remaining misses.</summary>
    private int LookupMegaflows(int misses)
    {
        if (_combined is { Count: > 0 })
        {
            misses = LookupCombined(misses);
            if (misses == 0)
            {
                return 0;
            }
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

    /// <summary>Combined megaflow lookup of the EMC misses (megaflow mode); leaves the rest compacted.</summary>
    private int LookupCombined(int misses)
    {
        for (int m = 0; m < misses; m++)
        {
            _missKeys[m] = _keys[_missIndex[m]];
        }

        var found = _missFlows.AsSpan(0, misses);
        _combined!.LookupBatch(_missKeys.AsSpan(0, misses), found);
        int remaining = 0;
        for (int m = 0; m < misses; m++)
        {
            int i = _missIndex[m];
            var flow = found[m];
            if (flow is null || flow.IsUnusable)
            {
                _missIndex[remaining++] = i;
                continue;
            }

            Stats.ShortcutHits++;
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
        if (_builder is not null)
        {
            Bypass(packet, flow, in key);
        }

        // A combined flow's packets count for the original megaflow here and for the recirculated
        // one when they pass the guard: statistics read as if they had recirculated.
        if (flow.BypassOriginal is { } original)
        {
            original.Stats.Add(packet.Length, key.TcpFlags, nowMs);
            packet.BypassTcpFlags = key.TcpFlags;
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

    /// <summary>
    /// Recirculation bypass bookkeeping: a first pass notes a megaflow that ends in ct, recirc; the
    /// recirculated pass of such a packet may build the combined flow of its connection direction.
    /// </summary>
    private void Bypass(Packet packet, Megaflow flow, in FlowKey key)
    {
        if (packet.Metadata.RecircId == 0)
        {
            packet.BypassOrigin = ShortcutBuilder.EndsInConntrackRecirculation(flow) ? flow : null;
            return;
        }

        if (packet.BypassOrigin is { } original)
        {
            packet.BypassOrigin = null;
            Install(packet, original, flow, in key);
        }
    }

    private void Install(Packet packet, Megaflow original, Megaflow recirculated, in FlowKey key)
    {
        if (_combined is not null)
        {
            InstallCombined(packet, original, recirculated, in key);
            return;
        }

        if (original.IsDead || _builder!.TryBuild(packet, in key, original, recirculated, _shortcuts!, out bool built) is not { } combined)
        {
            return;
        }

        var shortcut = combined.Shortcut!;
        if (!built)
        {
            // Already built by an earlier packet: in EMC-only mode it may have been evicted since.
            if (_shortcutsInEmcOnly)
            {
                _emc!.Insert(in combined.Key, shortcut.KeyHash, combined);
            }

            return;
        }

        if (!_shortcuts!.TryAdd(combined))
        {
            return;
        }

        Stats.ShortcutInstalls++;
        if (_shortcutsInEmcOnly)
        {
            _emc!.Insert(in combined.Key, shortcut.KeyHash, combined);
        }

        _observer?.Installed(shortcut);
    }

    /// <summary>
    /// Megaflow mode: the combined megaflow of this pair of megaflows, installed once and shared; the
    /// packet's EMC entry is pointed at it, so the connection's next packets find it at once.
    /// </summary>
    private void InstallCombined(Packet packet, Megaflow original, Megaflow recirculated, in FlowKey key)
    {
        if (original.IsDead || !_builder!.CanCombine(packet, in key, original, recirculated, out var firstPassKey))
        {
            return;
        }

        var combined = _combined!.Lookup(in firstPassKey);
        if (combined is null || combined.IsUnusable)
        {
            combined = _builder.BuildMasked(in firstPassKey, original, recirculated);
            _combined.Insert(combined);
            Stats.ShortcutInstalls++;
        }

        _emc?.Insert(in firstPassKey, FlowHash.Hash(in firstPassKey), combined);
    }

    /// <summary>
    /// Removes the combined flows of a connection (both directions) that left the established
    /// state, as its conntrack owner said. Returns how many went.
    /// </summary>
    public int RevokeConnection(in Conntrack.ConntrackKey connection, uint connectionHash)
    {
        if (_shortcuts is null)
        {
            return 0;
        }

        int removed = _shortcuts.RemoveConnection(in connection, connectionHash);
        Stats.ShortcutRevocations += removed;
        return removed;
    }

    /// <summary>A packet of a combined flow failed its guard: that combined flow is stale, remove it.</summary>
    internal void RevokeFailedGuard(Packet packet)
    {
        if (_combined is not null)
        {
            // Shared by every connection of the pair: a failing packet says nothing about the others.
            return;
        }

        uint hash = _builder!.FirstPassKey(packet, out var key);
        if (_shortcuts!.Lookup(in key, hash) is { } stale && _shortcuts.Remove(stale))
        {
            Stats.ShortcutRevocations++;
        }
    }

    /// <summary>After megaflows died (revalidation): their combined flows go too.</summary>
    private void RemoveStaleShortcuts()
    {
        if (_shortcuts is not null)
        {
            Stats.ShortcutRevocations += _shortcuts.RemoveStale() + RemoveStaleCombined();
            _builder!.ForgetDead();
        }
    }

    private int RemoveStaleCombined()
    {
        if (_combined is null)
        {
            return 0;
        }

        var stale = new List<Megaflow>();
        foreach (var flow in _combined.Flows)
        {
            if (flow.IsUnusable)
            {
                stale.Add(flow);
            }
        }

        foreach (var flow in stale)
        {
            _combined.Remove(flow);
            flow.MarkDead();
        }

        return stale.Count;
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
