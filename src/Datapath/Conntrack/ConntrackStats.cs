namespace Datapath.Conntrack;

/// <summary>Counters of one connection table (one owner, not thread-safe), one per <see cref="ConntrackCounter"/>.</summary>
public sealed class ConntrackStats
{
    private readonly long[] _counts = new long[Enum.GetValues<ConntrackCounter>().Length];

    public long this[ConntrackCounter counter] => _counts[(int)counter];

    /// <summary>Packets answered with inv (every invalid reason together).</summary>
    public long Invalid
    {
        get
        {
            long total = 0;
            for (int i = (int)ConntrackCounter.NotIp; i <= (int)ConntrackCounter.TcpOutOfWindow; i++)
            {
                total += _counts[i];
            }

            return total;
        }
    }

    public void Record(ConntrackCounter counter) => _counts[(int)counter]++;

    internal void Add(ConntrackCounter counter, long n) => _counts[(int)counter] += n;

    /// <summary>Adds every counter of <paramref name="other"/> (for totals over shards).</summary>
    public void Add(ConntrackStats other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }
    }

    public void Clear() => Array.Clear(_counts);
}
