using Datapath.Caches;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Stats;

namespace Datapath.Bypass;

/// <summary>
/// <see cref="BypassMode.EmcOnly"/> (the RFC patch's way): per-connection bypass flows reached
/// through the EMC alone. Each one is inserted there whenever a recirculated pass finds or builds it
/// and is evicted like any entry, after which the connection recirculates until the next insertion;
/// the table behind it only keeps them for revocation and for building each one once.
/// </summary>
public sealed class EmcOnlyBypass : IRecirculationBypass
{
    private readonly ConnectionBypassFlows _flows;
    private readonly ExactMatchCache _emc;

    /// <param name="emc">The PMD's EMC, where the bypass flows are looked up.</param>
    /// <param name="maxFlows">The most bypass flows held (one per connection direction).</param>
    /// <param name="stats">The PMD's counters.</param>
    /// <param name="watcher">The conntrack stage that revokes bypass flows, or null.</param>
    public EmcOnlyBypass(ExactMatchCache emc, int maxFlows, PmdStats stats, IBypassFlowWatcher? watcher)
    {
        ArgumentNullException.ThrowIfNull(emc);
        _emc = emc;
        _flows = new ConnectionBypassFlows(maxFlows, stats, watcher);
    }

    public BypassMode Mode => BypassMode.EmcOnly;

    public int Count => _flows.Table.Count;

    /// <summary>The bypass flows (for tests).</summary>
    public BypassFlowTable Table => _flows.Table;

    public int LookupBeforeEmc(ReadOnlySpan<Packet> packets, ReadOnlySpan<FlowKey> keys, ReadOnlySpan<uint> hashes, Span<Megaflow?> flows) => 0;

    public int LookupAfterEmc(ReadOnlySpan<FlowKey> keys, ReadOnlySpan<uint> hashes, Span<int> misses, int count, Span<Megaflow?> flows) => count;

    public void OnClassified(ReadOnlySpan<Packet> packets, ReadOnlySpan<Megaflow?> flows, ReadOnlySpan<FlowKey> keys)
    {
        var intoEmc = new IntoEmc(_emc);
        _flows.OnClassified(packets, flows, keys, ref intoEmc);
    }

    public void OnGuardFailed(Packet packet) => _flows.RevokeFailedGuard(packet);

    public void OnMegaflowsRemoved() => _flows.RemoveStale();

    public int Revoke(in ConntrackKey connection, uint connectionHash) => _flows.Revoke(in connection, connectionHash);

    /// <summary>Every bypass flow found or built goes (back) into the EMC: an earlier one may have been evicted.</summary>
    private readonly struct IntoEmc(ExactMatchCache emc) : IPlaceBypassFlow
    {
        public void Place(Megaflow flow) => emc.Insert(in flow.Key, BypassFlowOrigin.Of(flow).KeyHash, flow);
    }
}
