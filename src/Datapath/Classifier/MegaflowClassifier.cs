using System.Numerics;
using Datapath.Caches;
using Datapath.Flow;

namespace Datapath.Classifier;

/// <summary>
/// The megaflow classifier of one PMD (the analogue of OVS's dpcls in lib/dpif-netdev.c and
/// lib/dpif-netdev-lookup-generic.c): a tuple-space search with one <see cref="Subtable"/> per
/// distinct mask, probed in rank order. Not thread-safe: it belongs to its PMD alone.
/// </summary>
/// <remarks>
/// <para>Contract: installed megaflows never overlap (no key matches two live megaflows), as the
/// datapath guarantees by looking up before installing; so the first match found is the match
/// and a lookup may stop there. Dead megaflows (<see cref="Megaflow.MarkDead"/>) never match,
/// so an owner may kill a flow at once and <see cref="Remove"/> it later.</para>
/// <para>Ranking: each subtable counts its hits; <see cref="Optimize"/> re-sorts the subtables
/// by the hits since the previous call and resets the counts (OVS dpcls_sort_subtable_vector).
/// Nothing re-sorts automatically: the owner calls <see cref="Optimize"/> on a timer, every
/// <see cref="OptimizeIntervalMs"/> as OVS does.</para>
/// <para>Statistics: the caller credits a hit to the flow with
/// <c>flow.Stats.Add(bytes, tcpFlags, nowMs)</c> (<see cref="MegaflowStats.Add"/>).</para>
/// <para>Lookups allocate nothing; insertion and removal may (new subtables, table growth).</para>
/// </remarks>
public sealed class MegaflowClassifier
{
    /// <summary>How often the owner should call <see cref="Optimize"/> (OVS DPCLS_OPTIMIZATION_INTERVAL).</summary>
    public const int OptimizeIntervalMs = 1000;

    /// <summary>Most keys one <see cref="LookupBatch(ReadOnlySpan{FlowKey}, Span{Megaflow?}, uint)"/> takes (the batch size).</summary>
    public const int MaxBatch = 32;

    private readonly Dictionary<FlowKey, Subtable> _byMask = [];
    private Subtable[] _ranked = new Subtable[4];
    private int _subtableCount;
    private int _flowCount;
    private int _version;

    /// <summary>Number of megaflows installed.</summary>
    public int Count => _flowCount;

    /// <summary>Number of subtables (distinct masks).</summary>
    public int SubtableCount => _subtableCount;

    /// <summary>The subtables in the order lookups probe them.</summary>
    public ReadOnlySpan<Subtable> Subtables => _ranked.AsSpan(0, _subtableCount);

    /// <summary>Keys that matched a megaflow.</summary>
    public long Hits { get; private set; }

    /// <summary>Keys that matched none.</summary>
    public long Misses { get; private set; }

    /// <summary>
    /// Sum over hits of the number of subtables probed to find them; divided by <see cref="Hits"/>
    /// it is pmd-stats-show's "avg. subtable lookups per megaflow hit".
    /// </summary>
    public long SubtableLookups { get; private set; }

    /// <summary>All installed megaflows, enumerated without allocating; do not modify the classifier meanwhile.</summary>
    public FlowEnumerable Flows => new(this);

    /// <summary>
    /// Installs <paramref name="flow"/> in the subtable of its mask, creating that subtable (last
    /// in rank) if needed. The caller guarantees it overlaps no installed live megaflow.
    /// </summary>
    /// <exception cref="ArgumentException">This instance is already installed.</exception>
    public void Insert(Megaflow flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (!_byMask.TryGetValue(flow.Mask, out Subtable? subtable))
        {
            subtable = new Subtable(in flow.Mask);
            _byMask.Add(flow.Mask, subtable);
            AppendRanked(subtable);
        }

        if (!subtable.Add(flow))
        {
            throw new ArgumentException("The megaflow is already installed.", nameof(flow));
        }

        _flowCount++;
        _version++;
    }

    /// <summary>Uninstalls this instance; the last flow of a subtable takes the subtable with it. False if not installed.</summary>
    public bool Remove(Megaflow flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (!_byMask.TryGetValue(flow.Mask, out Subtable? subtable) || !subtable.Remove(flow))
        {
            return false;
        }

        _flowCount--;
        _version++;
        if (subtable.Count == 0)
        {
            _byMask.Remove(flow.Mask);
            RemoveRanked(subtable);
        }

        return true;
    }

    /// <summary>The live megaflow matching <paramref name="key"/>, or null (OVS dpcls_lookup for one key).</summary>
    public Megaflow? Lookup(in FlowKey key)
    {
        Subtable[] ranked = _ranked;
        int n = _subtableCount;
        for (int i = 0; i < n; i++)
        {
            Subtable subtable = ranked[i];
            Megaflow? flow = subtable.Find(in key, subtable.HashOf(in key));
            if (flow is not null)
            {
                subtable.Hits++;
                Hits++;
                SubtableLookups += i + 1;
                return flow;
            }
        }

        Misses++;
        return null;
    }

    /// <summary>Looks up every key of <paramref name="keys"/>; see <see cref="LookupBatch(ReadOnlySpan{FlowKey}, Span{Megaflow?}, uint)"/>.</summary>
    public uint LookupBatch(ReadOnlySpan<FlowKey> keys, Span<Megaflow?> results) =>
        LookupBatch(keys, results, keys.Length == MaxBatch ? uint.MaxValue : (1u << keys.Length) - 1);

    /// <summary>
    /// Looks up the keys whose bit is set in <paramref name="keyMask"/> (bit i for keys[i], at most
    /// <see cref="MaxBatch"/> keys), writing each one's megaflow or null into results[i]; other
    /// results are left alone. Subtables are probed in rank order and the search stops as soon as
    /// every key is resolved (OVS dpcls_lookup). Returns the bitmap of keys that matched nothing.
    /// </summary>
    public uint LookupBatch(ReadOnlySpan<FlowKey> keys, Span<Megaflow?> results, uint keyMask)
    {
        if (keys.Length > MaxBatch || results.Length < keys.Length)
        {
            ThrowBadBatch(keys.Length, results.Length);
        }

        if (keys.Length < MaxBatch)
        {
            keyMask &= (1u << keys.Length) - 1;
        }

        uint unresolved = keyMask;
        Subtable[] ranked = _ranked;
        int n = _subtableCount;
        for (int s = 0; s < n && unresolved != 0; s++)
        {
            Subtable subtable = ranked[s];
            uint pending = unresolved;
            long found = 0;
            while (pending != 0)
            {
                int i = BitOperations.TrailingZeroCount(pending);
                pending &= pending - 1;
                Megaflow? flow = subtable.Find(in keys[i], subtable.HashOf(in keys[i]));
                if (flow is not null)
                {
                    results[i] = flow;
                    unresolved &= ~(1u << i);
                    found++;
                }
            }

            subtable.Hits += found;
            Hits += found;
            SubtableLookups += found * (s + 1);
        }

        uint missed = unresolved;
        while (missed != 0)
        {
            results[BitOperations.TrailingZeroCount(missed)] = null;
            missed &= missed - 1;
        }

        Misses += BitOperations.PopCount(unresolved);
        return unresolved;
    }

    /// <summary>
    /// Re-ranks the subtables by their hits since the previous call, most first, and resets the
    /// counts (OVS dpcls_sort_subtable_vector). Ties keep their order. Allocation-free.
    /// </summary>
    public void Optimize()
    {
        Subtable[] ranked = _ranked;
        int n = _subtableCount;

        // Stable insertion sort: subtables are few and usually nearly sorted already.
        for (int i = 1; i < n; i++)
        {
            Subtable current = ranked[i];
            int j = i - 1;
            while (j >= 0 && ranked[j].Hits < current.Hits)
            {
                ranked[j + 1] = ranked[j];
                j--;
            }

            ranked[j + 1] = current;
        }

        for (int i = 0; i < n; i++)
        {
            ranked[i].Hits = 0;
        }

        _version++;
    }

    private void AppendRanked(Subtable subtable)
    {
        if (_subtableCount == _ranked.Length)
        {
            Array.Resize(ref _ranked, _ranked.Length * 2);
        }

        _ranked[_subtableCount++] = subtable;
    }

    private void RemoveRanked(Subtable subtable)
    {
        int i = Array.IndexOf(_ranked, subtable, 0, _subtableCount);
        Array.Copy(_ranked, i + 1, _ranked, i, _subtableCount - i - 1);
        _ranked[--_subtableCount] = null!;
    }

    private static void ThrowBadBatch(int keys, int results) =>
        throw new ArgumentException($"A batch takes at most {MaxBatch} keys and as many results; got {keys} keys, {results} results.");

    /// <summary>Allocation-free view of the installed megaflows (for dump-flows).</summary>
    public readonly struct FlowEnumerable
    {
        private readonly MegaflowClassifier _owner;

        internal FlowEnumerable(MegaflowClassifier owner) => _owner = owner;

        public FlowEnumerator GetEnumerator() => new(_owner);
    }

    /// <summary>Walks subtables in rank order and each one's slots; throws if the classifier changes meanwhile.</summary>
    public struct FlowEnumerator
    {
        private readonly MegaflowClassifier _owner;
        private readonly int _version;
        private int _subtable;
        private int _slot;
        private Megaflow? _current;

        internal FlowEnumerator(MegaflowClassifier owner)
        {
            _owner = owner;
            _version = owner._version;
            _subtable = 0;
            _slot = -1;
            _current = null;
        }

        public readonly Megaflow Current => _current!;

        public bool MoveNext()
        {
            if (_version != _owner._version)
            {
                throw new InvalidOperationException("The classifier changed during enumeration.");
            }

            for (; _subtable < _owner._subtableCount; _subtable++, _slot = -1)
            {
                Subtable subtable = _owner._ranked[_subtable];
                while (++_slot < subtable.Capacity)
                {
                    Megaflow? flow = subtable.SlotAt(_slot);
                    if (flow is not null)
                    {
                        _current = flow;
                        return true;
                    }
                }
            }

            _current = null;
            return false;
        }
    }
}
