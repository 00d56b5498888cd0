using Datapath.Caches;
using Datapath.Classifier;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Stats;

namespace Datapath.Bypass;

/// <summary>
/// <see cref="BypassMode.Megaflow"/>: one masked bypass flow per pair of megaflows, shared by every
/// connection through them, in a classifier of its own looked up after an EMC miss and before the
/// megaflow classifier; a packet that finds one also gets an EMC entry pointing at it. No
/// per-connection state, so nothing to revoke per connection: a connection that leaves the
/// established state simply fails the guard, and a failing packet says nothing about the others.
/// </summary>
public sealed class MegaflowBypass : IRecirculationBypass
{
    private readonly ExactMatchCache? _emc;
    private readonly PmdStats _stats;
    private readonly MegaflowClassifier _flows = new();
    private readonly BypassFlowBuilder _builder = new();

    // Scratch of one batch lookup.
    private readonly FlowKey[] _missKeys = new FlowKey[PacketBatch.MaxSize];
    private readonly Megaflow?[] _found = new Megaflow?[PacketBatch.MaxSize];

    /// <param name="emc">The PMD's EMC (null when off): a packet that finds a bypass flow points its entry at it.</param>
    /// <param name="stats">The PMD's counters (bypass hits, installs, revocations).</param>
    public MegaflowBypass(ExactMatchCache? emc, PmdStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        _emc = emc;
        _stats = stats;
    }

    public BypassMode Mode => BypassMode.Megaflow;

    public int Count => _flows.Count;

    /// <summary>The bypass flows (for dumps and tests).</summary>
    public MegaflowClassifier Flows => _flows;

    public int LookupBeforeEmc(ReadOnlySpan<Packet> packets, ReadOnlySpan<FlowKey> keys, ReadOnlySpan<uint> hashes, Span<Megaflow?> flows) => 0;

    public int LookupAfterEmc(ReadOnlySpan<FlowKey> keys, ReadOnlySpan<uint> hashes, Span<int> misses, int count, Span<Megaflow?> flows)
    {
        if (_flows.Count == 0)
        {
            return count;
        }

        for (int m = 0; m < count; m++)
        {
            _missKeys[m] = keys[misses[m]];
        }

        var found = _found.AsSpan(0, count);
        _flows.LookupBatch(_missKeys.AsSpan(0, count), found);
        int remaining = 0;
        for (int m = 0; m < count; m++)
        {
            int i = misses[m];
            var flow = found[m];
            if (flow is null || flow.IsUnusable)
            {
                misses[remaining++] = i;
                continue;
            }

            _stats.BypassHits++;
            _emc?.ProbabilisticInsert(in keys[i], hashes[i], flow);
            flows[i] = flow;
        }

        found.Clear();
        return remaining;
    }

    public void OnClassified(ReadOnlySpan<Packet> packets, ReadOnlySpan<Megaflow?> flows, ReadOnlySpan<FlowKey> keys)
    {
        for (int i = 0; i < packets.Length; i++)
        {
            if (flows[i] is not { } flow)
            {
                continue;
            }

            var packet = packets[i];
            if (packet.Metadata.RecircId == 0)
            {
                FirstPassNote.Write(packet, flow);
            }
            else if (FirstPassNote.Take(packet) is { } original)
            {
                Install(packet, original, flow, in keys[i]);
            }
        }
    }

    public void OnGuardFailed(Packet packet)
    {
    }

    public void OnMegaflowsRemoved()
    {
        _stats.BypassRevocations += RemoveStale();
        _builder.ForgetDead();
    }

    public int Revoke(in ConntrackKey connection, uint connectionHash) => 0;

    /// <summary>
    /// The bypass flow of this pair of megaflows, installed once and shared; the packet's EMC entry
    /// is pointed at it, so the connection's next packets find it at once.
    /// </summary>
    private void Install(Packet packet, Megaflow original, Megaflow recirculated, in FlowKey key)
    {
        if (original.IsDead || !_builder.CanCombine(packet, in key, original, recirculated, out var firstPassKey, out bool exact))
        {
            return;
        }

        var flow = _flows.Lookup(in firstPassKey);
        if (flow is null || flow.IsUnusable)
        {
            flow = _builder.BuildMasked(in firstPassKey, original, recirculated);
            _flows.Insert(flow);
            _stats.BypassInstalls++;
        }

        // A translated packet's exact first-pass key is gone: its connection's next packet finds the
        // bypass flow in the classifier and gets its EMC entry there.
        if (exact)
        {
            _emc?.Insert(in firstPassKey, FlowHash.Hash(in firstPassKey), flow);
        }
    }

    private int RemoveStale()
    {
        var stale = new List<Megaflow>();
        foreach (var flow in _flows.Flows)
        {
            if (flow.IsUnusable)
            {
                stale.Add(flow);
            }
        }

        foreach (var flow in stale)
        {
            _flows.Remove(flow);
            flow.MarkDead();
        }

        return stale.Count;
    }
}
