namespace Datapath.Conntrack.Fragments;

/// <summary>Named counters of an <see cref="IpReassembler"/>: fragments accepted and released, and one per drop reason.</summary>
public enum ReassemblyCounter
{
    /// <summary>Fragments taken and held.</summary>
    Accepted,

    /// <summary>Datagrams completed and handed to conntrack.</summary>
    Reassembled,

    /// <summary>Fragments handed back, with the datagram's state, after conntrack.</summary>
    Released,

    // ---- drops ----
    Malformed,
    TooSmall,
    Overlap,
    TooBig,
    TooManyFragments,
    HeldFragmentsLimit,
    HeldBytesLimit,
    Expired,
}

/// <summary>Counters of one reassembler (one owner, not thread-safe).</summary>
public sealed class ReassemblyStats
{
    private readonly long[] _counts = new long[Enum.GetValues<ReassemblyCounter>().Length];

    public long this[ReassemblyCounter counter] => _counts[(int)counter];

    /// <summary>Fragments dropped for any reason.</summary>
    public long Dropped
    {
        get
        {
            long total = 0;
            for (int i = (int)ReassemblyCounter.Malformed; i < _counts.Length; i++)
            {
                total += _counts[i];
            }

            return total;
        }
    }

    internal void Add(ReassemblyCounter counter, long n = 1) => _counts[(int)counter] += n;
}
