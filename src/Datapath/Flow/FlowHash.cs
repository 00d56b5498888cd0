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
    /// The EMC hash: over the words that tell flows apart in practice (metadata, ct_state/zone/mark,
    /// Ethernet, VLANs, nw_proto/tos/ttl/frag, both IPv4 and IPv6 addresses, ports and TCP flags),
    /// not over ct_label, the ARP/ND addresses and the conntrack original-direction tuple: keys that
    /// differ only there share a hash, and the EMC, which compares whole keys, keeps them apart. Open
    /// vSwitch's EMC likewise indexes by the packet's 5-tuple RSS hash, not by the whole miniflow;
    /// half the words halves the cost of the one hash every packet pays.
    /// Each pair of words, keyed by its own secret, is folded through one 64x64->128 multiply (as
    /// wyhash does); the pairs are independent, so the multiplies overlap in the CPU instead of
    /// waiting on each other as a chained hash would.
    /// </summary>
    public static uint Hash(in FlowKey key)
    {
        // Unrolled with the secrets inline: a constant table read through a span allocates in
        // unoptimised (Debug) code, and the hot path must allocate nothing in every build.
        ReadOnlySpan<ulong> w = key.Words;
        ulong acc = Seed;
        acc += Fold(w[0] ^ 0xA076_1D64_78BD_642FUL, w[1] ^ 0xE703_7ED1_A0B4_28DBUL);
        acc += Fold(w[4] ^ 0x8EBC_6AF0_9C88_C6E3UL, w[5] ^ 0x5899_65CC_7537_4CC3UL);
        acc += Fold(w[6] ^ 0x1D8E_4E27_C47D_124FUL, w[7] ^ 0xD6E8_FEB8_6659_FD93UL);
        acc += Fold(w[8] ^ 0x9FB2_1C65_1E98_DF25UL, w[13] ^ 0xC2B2_AE3D_27D4_EB4FUL);
        acc += Fold(w[9] ^ 0x1656_67B1_9E37_79F9UL, w[10] ^ 0x85EB_CA77_C2B2_AE63UL);
        acc += Fold(w[11] ^ 0x27D4_EB2F_1656_67C5UL, w[12] ^ 0x9E37_79B1_85EB_CA87UL);
        return Finish(acc);
    }

    /// <summary>True for the key words <see cref="Hash"/> reads.</summary>
    public static bool IsHashedWord(int word) => word is 0 or 1 or (>= 4 and <= 13);

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
