using System.Numerics;
using System.Runtime.CompilerServices;

namespace Datapath.Flow;

/// <summary>
/// Hashes over flow keys. Hand-written rather than System.IO.Hashing because the classifier
/// hashes only the words a mask selects, which a byte-span hash cannot skip; one mixer serves
/// the whole-key hash too so both agree on quality. Mixing follows the murmur3 finaliser family.
/// </summary>
public static class FlowHash
{
    private const ulong Seed = 0x9E37_79B9_7F4A_7C15UL;

    /// <summary>Hash of the whole key (the EMC hash).</summary>
    public static uint Hash(in FlowKey key)
    {
        ulong h = Seed;
        ReadOnlySpan<ulong> w = key.Words;
        for (int i = 0; i < FlowKey.WordCount; i++)
        {
            h = Add(h, w[i]);
        }

        return Finish(h);
    }

    /// <summary>Hash of (key AND mask), reading only the words where the mask is non-zero.</summary>
    /// <param name="maskWords">Indices of the mask's non-zero words, ascending.</param>
    public static uint HashMasked(in FlowKey key, in FlowKey mask, ReadOnlySpan<byte> maskWords)
    {
        ulong h = Seed;
        ReadOnlySpan<ulong> k = key.Words;
        ReadOnlySpan<ulong> m = mask.Words;
        foreach (byte i in maskWords)
        {
            h = Add(h, k[i] & m[i]);
        }

        return Finish(h);
    }

    /// <summary>Hash of a key that is already masked, over the same words as <see cref="HashMasked"/>.</summary>
    public static uint HashSelected(in FlowKey maskedKey, ReadOnlySpan<byte> maskWords)
    {
        ulong h = Seed;
        ReadOnlySpan<ulong> k = maskedKey.Words;
        foreach (byte i in maskWords)
        {
            h = Add(h, k[i]);
        }

        return Finish(h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Add(ulong h, ulong data)
    {
        data *= 0x87C3_7B91_1142_53D5UL;
        data = BitOperations.RotateLeft(data, 31);
        data *= 0x4CF5_AD43_2745_937FUL;
        h ^= data;
        h = BitOperations.RotateLeft(h, 27);
        return (h * 5) + 0x52DC_E729;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Finish(ulong h)
    {
        h ^= h >> 33;
        h *= 0xFF51_AFD7_ED55_8CCDUL;
        h ^= h >> 33;
        h *= 0xC4CE_B9FE_1A85_EC53UL;
        h ^= h >> 33;
        return (uint)h ^ (uint)(h >> 32);
    }
}
