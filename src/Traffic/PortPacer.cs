namespace Traffic;

/// <summary>
/// How many frames one host may send by a given time at a fixed rate: frame k is due at
/// start + k / rate. Credit left unused because the host had nothing to send is forfeited (an idle
/// host does not burst later); credit left because the caller asked too rarely is kept, so the
/// frames sent track the rate as long as the caller keeps up on average.
/// </summary>
internal struct PortPacer
{
    private long _startNs;
    private long _sent;
    private bool _started;

    /// <summary>Frames due at <paramref name="nowNs"/> and not yet sent.</summary>
    public long Due(long nowNs, long ratePps)
    {
        if (!_started)
        {
            _started = true;
            _startNs = nowNs;
        }

        return TotalDue(nowNs, ratePps) - _sent;
    }

    public void Sent(int count) => _sent += count;

    /// <summary>The host ran out of frames: what was due until now can no longer be claimed.</summary>
    public void Forfeit(long nowNs, long ratePps) => _sent = Math.Max(_sent, TotalDue(nowNs, ratePps));

    private readonly long TotalDue(long nowNs, long ratePps)
    {
        long elapsed = Math.Max(0, nowNs - _startNs);
        return (long)((Int128)elapsed * ratePps / 1_000_000_000) + 1;
    }
}
