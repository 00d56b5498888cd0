using System.Numerics;
using System.Runtime.CompilerServices;

namespace Datapath.Flow;

/// <summary>
/// Hashes over flow keys. Hand-written rather than System.IO.Hashing because the classifier
/// hashes only the words a mask selects, which a byte-span hash cannot skip, and the whole-key
/// hash runs once per packet. Word mixing follows the murmur3 finaliser family.
/// </summary>
public static class FlowHash
{
    private const ulong Seed = 0x9E37_79B9_7F4A_7C15UL;

    /// <summary>
    /// Hash of the whole key (the EMC hash). Each pair of words, keyed by its own secret, is folded
    /// through one 64x64->128 multiply (as wyhash does); the pairs are independent, so the
    /// multiplies overlap in the CPU instead of waiting on each other as a chained hash would.
    /// </summary>
    public static uint Hash(in FlowKey key)
    {
        // Unrolled with the secrets inline: a constant table read through a span allocates in
        // unoptimised (Debug) code, and the hot path must allocate nothing in every build.
        ReadOnlySpan<ulong> w = key.Words;
        ulong acc = Seed;
        acc += Fold(w[0] ^ 0xA076_1D64_78BD_642FUL, w[1] ^ 0xE703_7ED1_A0B4_28DBUL);
        acc += Fold(w[2] ^ 0x8EBC_6AF0_9C88_C6E3UL, w[3] ^ 0x5899_65CC_7537_4CC3UL);
        acc += Fold(w[4] ^ 0x1D8E_4E27_C47D_124FUL, w[5] ^ 0xD6E8_FEB8_6659_FD93UL);
        acc += Fold(w[6] ^ 0x9FB2_1C65_1E98_DF25UL, w[7] ^ 0xC2B2_AE3D_27D4_EB4FUL);
        acc += Fold(w[8] ^ 0x1656_67B1_9E37_79F9UL, w[9] ^ 0x85EB_CA77_C2B2_AE63UL);
        acc += Fold(w[10] ^ 0x27D4_EB2F_1656_67C5UL, w[11] ^ 0x9E37_79B1_85EB_CA87UL);
        acc += Fold(w[12] ^ 0xF135_7AEA_2E62_A9C5UL, w[13] ^ 0xBF58_476D_1CE4_E5B9UL);
        acc += Fold(w[14] ^ 0x94D0_49BB_1331_11EBUL, w[15] ^ 0xFF51_AFD7_ED55_8CCDUL);
        acc += Fold(w[16] ^ 0xC4CE_B9FE_1A85_EC53UL, w[17] ^ 0x2127_599B_F432_5C37UL);
        acc += Fold(w[18] ^ 0x9E6C_63D0_676A_9A99UL, w[19] ^ 0x5A34_5A6B_8F3D_2C91UL);
        acc += Fold(w[20] ^ 0xD1B5_4A32_D192_ED03UL, w[21] ^ 0xABC9_8388_FB8F_AC03UL);
        acc += Fold(w[22] ^ 0x8CB9_2BA7_2F3D_8DD7UL, w[23] ^ 0xE3C3_7A21_9D2B_6E45UL);
        return Finish(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Fold(ulong a, ulong b)
    {
        ulong hi = Math.BigMul(a, b, out ulong lo);
        return hi ^ lo;
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
