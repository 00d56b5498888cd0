using Datapath.Caches;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Stats;

namespace Datapath.Bypass;

/// <summary>
/// <see cref="BypassMode.PerConnection"/>: one exact bypass flow per connection direction, in a
/// table looked up before the EMC (so an established connection takes one lookup even when the EMC
/// misses); the connection's conntrack owner revokes them (<see cref="IBypassFlowWatcher"/>).
/// </summary>
public sealed class PerConnectionBypass : IRecirculationBypass
{
    private readonly ConnectionBypassFlows _flows;
    private readonly PmdStats _stats;

    /// <param name="maxFlows">The most bypass flows held (one per connection direction); beyond it, installs are refused and counted.</param>
    /// <param name="stats">The PMD's counters.</param>
    /// <param name="watcher">The conntrack stage that revokes bypass flows, or null.</param>
    public PerConnectionBypass(int maxFlows, PmdStats stats, IBypassFlowWatcher? watcher)
    {
        _flows = new ConnectionBypassFlows(maxFlows, stats, watcher);
        _stats = stats;
    }

    public BypassMode Mode => BypassMode.PerConnection;

    public int Count => _flows.Table.Count;

    /// <summary>The bypass flows (for tests).</summary>
    public BypassFlowTable Table => _flows.Table;

    public int LookupBeforeEmc(ReadOnlySpan<Packet> packets, ReadOnlySpan<FlowKey> keys, ReadOnlySpan<uint> hashes, Span<Megaflow?> flows)
    {
        var table = _flows.Table;
        int hits = 0;
        for (int i = 0; i < packets.Length; i++)
        {
            if (packets[i].Metadata.RecircId == 0 && table.Lookup(in keys[i], hashes[i]) is { } flow)
            {
                flows[i] = flow;
                hits++;
            }
        }

        _stats.BypassHits += hits;
        return hits;
    }

    public int LookupAfterEmc(ReadOnlySpan<FlowKey> keys, ReadOnlySpan<uint> hashes, Span<int> misses, int count, Span<Megaflow?> flows) => count;

    public void OnClassified(ReadOnlySpan<Packet> packets, ReadOnlySpan<Megaflow?> flows, ReadOnlySpan<FlowKey> keys)
    {
        var tableOnly = default(TableOnly);
        _flows.OnClassified(packets, flows, keys, ref tableOnly);
    }

    public void OnGuardFailed(Packet packet) => _flows.RevokeFailedGuard(packet);

    public void OnMegaflowsRemoved() => _flows.RemoveStale();

    public int Revoke(in ConntrackKey connection, uint connectionHash) => _flows.Revoke(in connection, connectionHash);

    /// <summary>The table is the only place: nothing more to do.</summary>
    private struct TableOnly : IPlaceBypassFlow
    {
        public readonly void Place(Megaflow flow)
        {
        }
    }
}
