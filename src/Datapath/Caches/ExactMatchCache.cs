using System.Numerics;
using System.Runtime.CompilerServices;
using Datapath.Flow;

namespace Datapath.Caches;

/// <summary>
/// The exact-match cache of one PMD (the analogue of Open vSwitch's emc_cache in
/// lib/dpif-netdev-private-dfc.h): full flow key to megaflow, two candidate slots per hash,
/// probabilistic insertion. Not thread-safe: it belongs to its PMD alone.
/// </summary>
/// <remarks>
/// A hit requires the same hash, the current generation, a live megaflow and an equal key, so
/// killing a megaflow (<see cref="Megaflow.MarkDead"/>) or calling <see cref="InvalidateAll"/>
/// makes stale entries miss without touching them. Lookup and insertion allocate nothing.
/// </remarks>
public sealed class ExactMatchCache
{
    /// <summary>Default number of entries (OVS EM_FLOW_HASH_ENTRIES).</summary>
    public const int DefaultSize = 8192;

    /// <summary>Default inverse insertion probability (OVS DEFAULT_EM_FLOW_INSERT_INV_PROB).</summary>
    public const int DefaultInsertInverseProbability = 100;

    /// <summary>Smallest and largest accepted sizes (two slots per hash need at least two entries).</summary>
    public const int MinSize = 2;

    public const int MaxSize = 1 << 24;

    private readonly Entry[] _entries;
    private readonly uint _indexMask;
    private readonly int _indexBits;
    private uint _generation = 1;
    private uint _insertThreshold;
    private int _insertInverseProbability;
    private ulong _rngState;

    /// <param name="size">Number of entries: a power of two in [<see cref="MinSize"/>, <see cref="MaxSize"/>].</param>
    /// <param name="insertInverseProbability">N in "insert with probability 1/N"; 1 always, 0 never (EMC off).</param>
    /// <param name="seed">Seed of the insertion PRNG; fixed by default so runs are reproducible.</param>
    public ExactMatchCache(
        int size = DefaultSize,
        int insertInverseProbability = DefaultInsertInverseProbability,
        ulong seed = 0x2545_F491_4F6C_DD1DUL)
    {
        if (size < MinSize || size > MaxSize || !BitOperations.IsPow2(size))
        {
            throw new ArgumentException(
                $"EMC size must be a power of two between {MinSize} and {MaxSize}, got {size}.", nameof(size));
        }

        _entries = new Entry[size];
        _indexMask = (uint)size - 1;
        _indexBits = BitOperations.Log2((uint)size);
        InsertInverseProbability = insertInverseProbability;

        // xorshift must never hold zero; any other value is a valid state.
        _rngState = seed == 0 ? 0x9E37_79B9_7F4A_7C15UL : seed;
    }

    /// <summary>Number of entries.</summary>
    public int Size => _entries.Length;

    /// <summary>
    /// N in "<see cref="ProbabilisticInsert"/> inserts with probability 1/N" (OVS other_config
    /// emc-insert-inv-prob): 1 inserts always, 0 never, which disables the EMC in effect.
    /// </summary>
    public int InsertInverseProbability
    {
        get => _insertInverseProbability;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _insertInverseProbability = value;

            // As OVS: insert when a uniform 32-bit draw is <= UINT32_MAX / N; N == 0 gives 0, i.e. never.
            _insertThreshold = value == 0 ? 0 : uint.MaxValue / (uint)value;
        }
    }

    /// <summary>False when insertion is off (<see cref="InsertInverseProbability"/> is 0).</summary>
    public bool IsEnabled => _insertThreshold != 0;

    public long Hits { get; private set; }

    public long Misses { get; private set; }

    public long Inserts { get; private set; }

    /// <summary>
    /// Returns the live megaflow cached for <paramref name="key"/>, or null. <paramref name="hash"/>
    /// must be <see cref="FlowHash.Hash"/> of the key (computed once by the caller, as OVS keeps it
    /// in the packet's netdev_flow_key).
    /// </summary>
    public Megaflow? Lookup(in FlowKey key, uint hash)
    {
        Entry[] entries = _entries;
        ref Entry first = ref entries[hash & _indexMask];
        if (IsHit(ref first, in key, hash))
        {
            Hits++;
            return first.Flow;
        }

        ref Entry second = ref entries[SecondIndex(hash)];
        if (IsHit(ref second, in key, hash))
        {
            Hits++;
            return second.Flow;
        }

        Misses++;
        return null;
    }

    /// <summary>
    /// Caches <paramref name="key"/> -> <paramref name="flow"/> with probability 1/<see cref="InsertInverseProbability"/>
    /// (OVS emc_probabilistic_insert). Returns true when it inserted.
    /// </summary>
    public bool ProbabilisticInsert(in FlowKey key, uint hash, Megaflow flow)
    {
        uint threshold = _insertThreshold;
        if (threshold == 0 || NextRandom() > threshold)
        {
            return false;
        }

        Insert(in key, hash, flow);
        return true;
    }

    /// <summary>
    /// Caches <paramref name="key"/> -> <paramref name="flow"/> unconditionally (OVS emc_insert).
    /// The slot replaced is, in order of preference: the one already holding this key; an empty,
    /// stale or dead one; else the one whose hash is lower.
    /// </summary>
    public void Insert(in FlowKey key, uint hash, Megaflow flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        Entry[] entries = _entries;
        ref Entry first = ref entries[hash & _indexMask];
        ref Entry second = ref entries[SecondIndex(hash)];

        bool useSecond = !HoldsKey(ref first, in key, hash)
            && (HoldsKey(ref second, in key, hash)
                || (IsAlive(ref first) && (!IsAlive(ref second) || second.Hash < first.Hash)));
        ref Entry target = ref useSecond ? ref second : ref first;

        target.Key = key;
        target.Hash = hash;
        target.Flow = flow;
        target.Generation = _generation;
        Inserts++;
    }

    /// <summary>
    /// Makes every current entry miss, in O(1), by starting a new generation (for example when the
    /// OpenFlow tables change and every megaflow is revalidated).
    /// </summary>
    public void InvalidateAll()
    {
        _generation++;
        if (_generation == 0)
        {
            OnGenerationWrapped();
        }
    }

    /// <summary>Number of entries that could hit now (O(size): for statistics and tests, not the packet path).</summary>
    public int CountLive()
    {
        int n = 0;
        Entry[] entries = _entries;
        for (int i = 0; i < entries.Length; i++)
        {
            if (IsAlive(ref entries[i]))
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>The two slots a hash may occupy: index 0 from the low bits, 1 from the next bits (OVS EM_FLOW_HASH_SEGS).</summary>
    internal (int First, int Second) SlotsOf(uint hash) => ((int)(hash & _indexMask), (int)SecondIndex(hash));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint SecondIndex(uint hash) => BitOperations.RotateRight(hash, _indexBits) & _indexMask;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsHit(ref Entry e, in FlowKey key, uint hash) =>
        e.Hash == hash
        && e.Generation == _generation
        && e.Flow is { IsDead: false }
        && FlowKey.Equals(in e.Key, in key);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsAlive(ref Entry e) => e.Generation == _generation && e.Flow is { IsDead: false };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool HoldsKey(ref Entry e, in FlowKey key, uint hash) =>
        e.Flow is not null && e.Hash == hash && FlowKey.Equals(in e.Key, in key);

    /// <summary>xorshift64* draw, upper 32 bits: cheap, allocation-free and good enough for sampling.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint NextRandom()
    {
        ulong x = _rngState;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        _rngState = x;
        return (uint)((x * 0x2545_F491_4F6C_DD1DUL) >> 32);
    }

    /// <summary>After 2^32 invalidations old generation numbers would come back to life: forget them all.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void OnGenerationWrapped()
    {
        Array.Clear(_entries);
        _generation = 1;
    }

    private struct Entry
    {
        public FlowKey Key;
        public Megaflow? Flow;
        public uint Hash;
        public uint Generation;
    }
}
