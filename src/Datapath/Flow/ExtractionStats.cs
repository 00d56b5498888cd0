namespace Datapath.Flow;

/// <summary>
/// Per-reason counters of frames whose extraction stopped early. One instance per owner (a PMD),
/// not thread-safe, like the rest of a PMD's state.
/// </summary>
public sealed class ExtractionStats
{
    private readonly long[] _counts = new long[Enum.GetValues<MalformedReason>().Length];

    /// <summary>The count for one reason.</summary>
    public long this[MalformedReason reason] => _counts[(int)reason];

    /// <summary>The sum over all reasons.</summary>
    public long Total
    {
        get
        {
            long total = 0;
            foreach (long c in _counts)
            {
                total += c;
            }

            return total;
        }
    }

    /// <summary>Counts one occurrence of <paramref name="reason"/>.</summary>
    public void Record(MalformedReason reason) => _counts[(int)reason]++;

    /// <summary>Adds every counter of <paramref name="other"/> to this one (for totals over PMDs).</summary>
    public void Add(ExtractionStats other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }
    }

    public void Clear() => Array.Clear(_counts);
}
