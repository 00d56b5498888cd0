using System.Runtime.CompilerServices;
using Datapath.Caches;
using Datapath.Flow;

namespace Datapath.Classifier;

/// <summary>
/// All megaflows of a classifier that share one mask (the analogue of OVS's dpcls_subtable):
/// a hash table from hash(key AND mask) to the megaflows with that masked key. Open addressing
/// with linear probing and backward-shift deletion, so lookups allocate nothing and removal
/// leaves no tombstones. Mutated only through its <see cref="MegaflowClassifier"/>.
/// </summary>
public sealed class Subtable
{
    private const int InitialCapacity = 8;

    private readonly FlowKey _mask;
    private readonly byte[] _maskWords;
    private Slot[] _slots = new Slot[InitialCapacity];
    private int _count;

    internal Subtable(in FlowKey mask)
    {
        _mask = mask;
        _maskWords = NonZeroWords(in mask);
    }

    /// <summary>The mask every megaflow of this subtable has.</summary>
    public ref readonly FlowKey Mask => ref _mask;

    /// <summary>Indices of the mask's non-zero words, ascending: the only words hashed and compared.</summary>
    public ReadOnlySpan<byte> MaskWords => _maskWords;

    /// <summary>Number of megaflows held.</summary>
    public int Count => _count;

    /// <summary>Lookups that matched here since the last <see cref="MegaflowClassifier.Optimize"/> (its rank).</summary>
    public long Hits { get; internal set; }

    /// <summary>Hash of <paramref name="key"/> under this subtable's mask.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint HashOf(in FlowKey key) => FlowHash.HashMasked(in key, in _mask, _maskWords);

    /// <summary>
    /// The live megaflow matching <paramref name="key"/>, or null; <paramref name="hash"/> is
    /// <see cref="HashOf"/>(key). Dead megaflows are skipped, so an owner may kill first and remove later.
    /// </summary>
    public Megaflow? Find(in FlowKey key, uint hash)
    {
        Slot[] slots = _slots;
        int mask = slots.Length - 1;
        for (int i = (int)hash & mask; ; i = (i + 1) & mask)
        {
            ref Slot s = ref slots[i];
            Megaflow? flow = s.Flow;
            if (flow is null)
            {
                return null;
            }

            if (s.Hash == hash && !flow.IsDead && MatchesSelected(in key, flow))
            {
                return flow;
            }
        }
    }

    /// <summary>Adds <paramref name="flow"/>, whose mask must equal <see cref="Mask"/>. False if this instance is already here.</summary>
    internal bool Add(Megaflow flow)
    {
        if ((_count + 1) * 2 > _slots.Length)
        {
            Grow();
        }

        uint hash = FlowHash.HashSelected(in flow.Key, _maskWords);
        Slot[] slots = _slots;
        int mask = slots.Length - 1;
        int i = (int)hash & mask;
        for (; slots[i].Flow is not null; i = (i + 1) & mask)
        {
            if (ReferenceEquals(slots[i].Flow, flow))
            {
                return false;
            }
        }

        slots[i] = new Slot { Hash = hash, Flow = flow };
        _count++;
        return true;
    }

    /// <summary>Removes this exact instance. False if it is not here.</summary>
    internal bool Remove(Megaflow flow)
    {
        uint hash = FlowHash.HashSelected(in flow.Key, _maskWords);
        Slot[] slots = _slots;
        int mask = slots.Length - 1;
        for (int i = (int)hash & mask; slots[i].Flow is not null; i = (i + 1) & mask)
        {
            if (ReferenceEquals(slots[i].Flow, flow))
            {
                DeleteAt(i);
                _count--;
                return true;
            }
        }

        return false;
    }

    /// <summary>The megaflow in slot <paramref name="index"/>, or null (for enumeration).</summary>
    internal Megaflow? SlotAt(int index) => _slots[index].Flow;

    internal int Capacity => _slots.Length;

    /// <summary>Compares only the mask's non-zero words: the others are zero in both the mask and the match.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool MatchesSelected(in FlowKey key, Megaflow flow)
    {
        ReadOnlySpan<ulong> k = key.Words;
        ReadOnlySpan<ulong> m = _mask.Words;
        ReadOnlySpan<ulong> v = flow.Key.Words;
        foreach (byte w in _maskWords)
        {
            if ((k[w] & m[w]) != v[w])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Empties slot <paramref name="hole"/> and shifts later members of its probe run back, keeping every run contiguous.</summary>
    private void DeleteAt(int hole)
    {
        Slot[] slots = _slots;
        int mask = slots.Length - 1;
        for (int j = (hole + 1) & mask; slots[j].Flow is not null; j = (j + 1) & mask)
        {
            int home = (int)slots[j].Hash & mask;

            // Slot j may move into the hole only if its home is not cyclically inside (hole, j].
            bool homeInRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (!homeInRange)
            {
                slots[hole] = slots[j];
                hole = j;
            }
        }

        slots[hole] = default;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow()
    {
        Slot[] old = _slots;
        var slots = new Slot[old.Length * 2];
        int mask = slots.Length - 1;
        foreach (Slot s in old)
        {
            if (s.Flow is null)
            {
                continue;
            }

            int i = (int)s.Hash & mask;
            while (slots[i].Flow is not null)
            {
                i = (i + 1) & mask;
            }

            slots[i] = s;
        }

        _slots = slots;
    }

    private static byte[] NonZeroWords(in FlowKey mask)
    {
        int n = 0;
        for (int i = 0; i < FlowKey.WordCount; i++)
        {
            if (mask[i] != 0)
            {
                n++;
            }
        }

        var words = new byte[n];
        n = 0;
        for (int i = 0; i < FlowKey.WordCount; i++)
        {
            if (mask[i] != 0)
            {
                words[n++] = (byte)i;
            }
        }

        return words;
    }

    private struct Slot
    {
        public uint Hash;
        public Megaflow? Flow;
    }
}
