using Datapath.Caches;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Stats;

namespace Datapath.Bypass;

/// <summary>
/// What the two per-connection modes share (<see cref="PerConnectionBypass"/>,
/// <see cref="EmcOnlyBypass"/>): one exact bypass flow per connection direction in a
/// <see cref="BypassFlowTable"/>, built from a packet's two passes, watched by the connection's
/// conntrack owner, and removed when it revokes them, when a guard fails or when a megaflow they
/// stand for dies. The modes differ only in where the pipeline looks the flows up.
/// </summary>
internal sealed class ConnectionBypassFlows
{
    private readonly BypassFlowBuilder _builder = new();
    private readonly PmdStats _stats;
    private readonly IBypassFlowWatcher? _watcher;

    public ConnectionBypassFlows(int maxFlows, PmdStats stats, IBypassFlowWatcher? watcher)
    {
        ArgumentNullException.ThrowIfNull(stats);
        Table = new BypassFlowTable(maxFlows);
        _stats = stats;
        _watcher = watcher;
    }

    public BypassFlowTable Table { get; }

    /// <summary>
    /// The recirculated pass of <paramref name="packet"/> hit <paramref name="recirculated"/> after
    /// <paramref name="original"/>: the live bypass flow of its first pass, built and added now if
    /// there was none (<paramref name="added"/>); null when the passes may not be combined or the
    /// table is full. An added flow is to be <see cref="Watch"/>ed once the caller has placed it.
    /// </summary>
    public Megaflow? Install(Packet packet, Megaflow original, Megaflow recirculated, in FlowKey key, out bool added)
    {
        added = false;
        if (original.IsDead || _builder.TryBuild(packet, in key, original, recirculated, Table, out bool built) is not { } flow)
        {
            return null;
        }

        if (!built)
        {
            return flow;
        }

        if (!Table.TryAdd(flow))
        {
            return null;
        }

        _stats.BypassInstalls++;
        added = true;
        return flow;
    }

    /// <summary>Asks the connection's conntrack owner to say when the connection of a new bypass flow leaves the established state.</summary>
    public void Watch(Megaflow flow)
    {
        var origin = BypassFlowOrigin.Of(flow);
        _watcher?.Watch(in origin.Connection, origin.ConnectionHash);
    }

    /// <summary>The bypass flow of a packet whose guard failed is stale: remove it.</summary>
    public void RevokeFailedGuard(Packet packet)
    {
        uint hash = _builder.FirstPassKey(packet, out var key);
        if (Table.Lookup(in key, hash) is { } stale && Table.Remove(stale))
        {
            _stats.BypassRevocations++;
        }
    }

    public void RemoveStale()
    {
        _stats.BypassRevocations += Table.RemoveStale();
        _builder.ForgetDead();
    }

    public int Revoke(in ConntrackKey connection, uint connectionHash)
    {
        int removed = Table.RemoveConnection(in connection, connectionHash);
        _stats.BypassRevocations += removed;
        return removed;
    }

    /// <summary>The recirculated passes of the batch install bypass flows; first passes note their flow.</summary>
    /// <param name="placed">Called with each bypass flow found or added, before a new one is watched.</param>
    public void OnClassified<TPlace>(ReadOnlySpan<Packet> packets, ReadOnlySpan<Megaflow?> flows, ReadOnlySpan<FlowKey> keys, ref TPlace placed)
        where TPlace : struct, IPlaceBypassFlow
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
            else if (FirstPassNote.Take(packet) is { } original
                && Install(packet, original, flow, in keys[i], out bool added) is { } bypassFlow)
            {
                placed.Place(bypassFlow);
                if (added)
                {
                    Watch(bypassFlow);
                }
            }
        }
    }
}

/// <summary>Where a per-connection mode puts a bypass flow besides its table (a struct, so the call is specialised).</summary>
internal interface IPlaceBypassFlow
{
    void Place(Megaflow flow);
}
