namespace Actors.Ports;

/// <summary>
/// <see cref="PcapOrdering.Causal"/> as a state machine: frames of one port flow freely, and before
/// the first frame of another port every PMD that was sent something since the last barrier must
/// be quiesced, so a reply never overtakes its request. The owner quiesces the PMDs
/// <see cref="PmdsToQuiesce"/> names and reports their answer with <see cref="Cleared"/>.
/// A plain class; not thread-safe.
/// </summary>
internal sealed class CausalOrder(int pmds, bool enabled)
{
    private readonly bool[] _sentSinceBarrier = new bool[pmds];
    private uint _lastPort;

    /// <summary>The PMDs that were sent frames since the last barrier.</summary>
    public IReadOnlyList<bool> PmdsToQuiesce => _sentSinceBarrier;

    /// <summary>True when a frame of <paramref name="port"/> must wait for a barrier first.</summary>
    public bool MustWait(uint port) => enabled && _lastPort != 0 && port != _lastPort;

    /// <summary>A frame of <paramref name="port"/> went to <paramref name="pmd"/>.</summary>
    public void Sent(int pmd, uint port)
    {
        _sentSinceBarrier[pmd] = true;
        _lastPort = port;
    }

    /// <summary>The barrier's PMDs are quiet: any port may go next.</summary>
    public void Cleared()
    {
        Array.Clear(_sentSinceBarrier);
        _lastPort = 0;
    }
}
