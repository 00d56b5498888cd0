namespace Traffic;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood): a tiny deterministic generator, so that one seed always gives
/// the same traffic. A mutable struct held in a field of its single owner.
/// </summary>
internal struct TrafficRandom
{
    private ulong _state;

    public TrafficRandom(ulong seed) => _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E37_79B9_7F4A_7C15;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB;
        return z ^ (z >> 31);
    }

    /// <summary>A value in [0, <paramref name="bound"/>) (Lemire's multiply-shift; the bias is negligible here).</summary>
    public uint NextBelow(uint bound) => (uint)(((Next() >> 32) * bound) >> 32);

    /// <summary>A value in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int NextInRange(int min, int max) => min + (int)NextBelow((uint)(max - min + 1));

    /// <summary>True with probability <paramref name="percent"/>/100.</summary>
    public bool Chance(int percent) => NextBelow(100) < (uint)percent;
}
