using System.Numerics;
using System.Runtime.CompilerServices;
using Datapath.Caches;
using Datapath.Conntrack;
using Datapath.Flow;

namespace Datapath.Bypass;

/// <summary>
/// The per-connection bypass flows of one PMD (recirculation bypass), by exact flow key, so that an
/// established connection's packets take one lookup even when the EMC misses (the seed patch only
/// patched EMC entries); and by connection, so that conntrack's word that a connection left the
/// established state removes its bypass flows. Open addressing with linear probing, hand-written because the
/// lookup is on the packet path and must reuse the EMC hash the pipeline already computed (a
/// Dictionary would hash the 144-byte key again). Grows up to <see cref="MaxEntries"/>; beyond
/// that, installs are refused and counted. Not thread-safe: it belongs to its PMD.
/// </summary>
public sealed class BypassFlowTable
{
    private const int InitialSlots = 1024;

    private readonly Dictionary<uint, Megaflow> _byConnection = [];
    // Each slot keeps the key's hash beside the flow, so probing past other keys reads no flow object.
    private Slot[] _slots = new Slot[InitialSlots];
    private int _mask = InitialSlots - 1;

    /// <param name="maxEntries">The most bypass flows held at once (one per connection direction).</param>
    public BypassFlowTable(int maxEntries)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        MaxEntries = maxEntries;
    }

    public int MaxEntries { get; }

    public int Count { get; private set; }

    /// <summary>Installs refused because the table was full.</summary>
    public long Refused { get; private set; }

    /// <summary>The live bypass flow for <paramref name="key"/>, or null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Megaflow? Lookup(in FlowKey key, uint hash)
    {
        var slots = _slots;
        for (int i = (int)hash & _mask; ; i = (i + 1) & _mask)
        {
            ref readonly var slot = ref slots[i];
            if (slot.Flow is not { } flow)
            {
                return null;
            }

            if (slot.Hash == hash && FlowKey.Equals(in flow.Key, in key))
            {
                return flow.IsUnusable ? null : flow;
            }
        }
    }

    /// <summary>
    /// Adds <paramref name="flow"/> (a bypass flow with a <see cref="BypassFlowOrigin"/>), replacing a stale one of the same key.
    /// Returns false when a live one already holds the key or the table is full.
    /// </summary>
    public bool TryAdd(Megaflow flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        var origin = BypassFlowOrigin.Of(flow);
        if (Find(in flow.Key, origin.KeyHash) is { } existing)
        {
            if (!existing.IsUnusable)
            {
                return false;
            }

            Remove(existing);
        }

        if (Count >= MaxEntries)
        {
            Refused++;
            return false;
        }

        if ((Count + 1) * 2 > _slots.Length)
        {
            Grow();
        }

        Place(flow);
        origin.NextOfConnection = _byConnection.TryGetValue(origin.ConnectionHash, out var head) ? head : null;
        _byConnection[origin.ConnectionHash] = flow;
        Count++;
        return true;
    }

    /// <summary>Removes (and kills) every bypass flow of <paramref name="connection"/>, both directions. Returns how many.</summary>
    public int RemoveConnection(in ConntrackKey connection, uint connectionHash)
    {
        int removed = 0;
        for (var flow = _byConnection.GetValueOrDefault(connectionHash); flow is not null;)
        {
            var origin = (BypassFlowOrigin)flow.Origin!;
            var next = origin.NextOfConnection;
            if (origin.BelongsTo(in connection))
            {
                Remove(flow);
                removed++;
            }

            flow = next;
        }

        return removed;
    }

    /// <summary>Removes (and kills) every bypass flow built from a megaflow that died. Returns how many.</summary>
    public int RemoveStale()
    {
        var stale = new List<Megaflow>();
        foreach (var slot in _slots)
        {
            if (slot.Flow is { IsUnusable: true } flow)
            {
                stale.Add(flow);
            }
        }

        foreach (var flow in stale)
        {
            Remove(flow);
        }

        return stale.Count;
    }

    /// <summary>Removes (and kills) one bypass flow; false when it is not in the table.</summary>
    public bool Remove(Megaflow flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        var origin = BypassFlowOrigin.Of(flow);
        int slot = SlotOf(flow, origin.KeyHash);
        if (slot < 0)
        {
            return false;
        }

        flow.MarkDead();
        DeleteSlot(slot);
        Unchain(flow, origin);
        Count--;
        return true;
    }

    /// <summary>Every bypass flow held (for dumps and tests).</summary>
    public IEnumerable<Megaflow> Flows
    {
        get
        {
            foreach (var slot in _slots)
            {
                if (slot.Flow is { } flow)
                {
                    yield return flow;
                }
            }
        }
    }

    private Megaflow? Find(in FlowKey key, uint hash)
    {
        for (int i = (int)hash & _mask; ; i = (i + 1) & _mask)
        {
            var slot = _slots[i];
            if (slot.Flow is not { } flow)
            {
                return null;
            }

            if (slot.Hash == hash && FlowKey.Equals(in flow.Key, in key))
            {
                return flow;
            }
        }
    }

    private int SlotOf(Megaflow target, uint keyHash)
    {
        for (int i = (int)keyHash & _mask; ; i = (i + 1) & _mask)
        {
            var flow = _slots[i].Flow;
            if (flow is null)
            {
                return -1;
            }

            if (ReferenceEquals(flow, target))
            {
                return i;
            }
        }
    }

    private void Place(Megaflow flow)
    {
        uint hash = ((BypassFlowOrigin)flow.Origin!).KeyHash;
        int i = (int)hash & _mask;
        while (_slots[i].Flow is not null)
        {
            i = (i + 1) & _mask;
        }

        _slots[i] = new Slot(hash, flow);
    }

    /// <summary>Backward-shift deletion: later members of the probe run move up, so no tombstones are needed.</summary>
    private void DeleteSlot(int hole)
    {
        _slots[hole] = default;
        for (int i = (hole + 1) & _mask; _slots[i].Flow is not null; i = (i + 1) & _mask)
        {
            int home = (int)_slots[i].Hash & _mask;

            // Move the entry into the hole when its home does not lie cyclically in (hole, i].
            bool homeBetween = hole <= i ? home > hole && home <= i : home > hole || home <= i;
            if (!homeBetween)
            {
                _slots[hole] = _slots[i];
                _slots[i] = default;
                hole = i;
            }
        }
    }

    private void Unchain(Megaflow flow, BypassFlowOrigin origin)
    {
        var head = _byConnection[origin.ConnectionHash];
        if (ReferenceEquals(head, flow))
        {
            if (origin.NextOfConnection is { } next)
            {
                _byConnection[origin.ConnectionHash] = next;
            }
            else
            {
                _byConnection.Remove(origin.ConnectionHash);
            }

            return;
        }

        for (var previous = head; ((BypassFlowOrigin)previous.Origin!).NextOfConnection is { } current; previous = current)
        {
            if (ReferenceEquals(current, flow))
            {
                ((BypassFlowOrigin)previous.Origin!).NextOfConnection = origin.NextOfConnection;
                return;
            }
        }
    }

    private void Grow()
    {
        var old = _slots;
        _slots = new Slot[(int)BitOperations.RoundUpToPowerOf2((uint)old.Length * 2)];
        _mask = _slots.Length - 1;
        foreach (var slot in old)
        {
            if (slot.Flow is { } flow)
            {
                Place(flow);
            }
        }
    }

    private readonly record struct Slot(uint Hash, Megaflow? Flow);
}
