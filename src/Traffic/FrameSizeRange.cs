namespace Traffic;

/// <summary>
/// Lengths of the frames that carry data (requests, responses, echoes), Ethernet header included and
/// FCS excluded; each such frame draws its length uniformly from [Min, Max]. Control segments (SYN,
/// ACK, FIN, RST) are always minimum-size frames of <see cref="Minimum"/> bytes.
/// </summary>
public readonly record struct FrameSizeRange(int Min, int Max)
{
    /// <summary>The smallest frame the generator writes (a minimum Ethernet frame).</summary>
    public const int Minimum = 64;

    /// <summary>Every data frame has exactly <paramref name="size"/> bytes.</summary>
    public static FrameSizeRange Fixed(int size) => new(size, size);
}
