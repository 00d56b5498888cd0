namespace Datapath.Conntrack;

/// <summary>
/// Expiry: one list per <see cref="TimeoutClass"/>, in expiry order because every connection of a
/// class gets the same timeout and moves to the tail when renewed (OVS's exp_lists). A sweep pops
/// expired heads only, a bounded number per call, so no sweep stalls packets.
/// </summary>
public sealed partial class ConnectionTable
{
    private readonly int[] _expiryHead;
    private readonly int[] _expiryTail;
    private int _sweepCursor;

    /// <summary>
    /// Removes at most <paramref name="budget"/> expired connections (OVS ct_sweep, in bounded slices)
    /// and reports, into <paramref name="removed"/> when given, every connection that left the table
    /// since the last call: those removed now and those that lookups found expired or new SYNs
    /// replaced meanwhile.
    /// </summary>
    /// <returns>The number of connections this call expired.</returns>
    public int Sweep(long nowMs, int budget, List<RemovedConnection>? removed = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(budget);
        int expired = 0;
        int classes = _expiryHead.Length;

        // Round-robin over the classes so that a long list cannot starve the others.
        for (int visited = 0; visited < classes && expired < budget; visited++)
        {
            int c = _sweepCursor;
            _sweepCursor = (_sweepCursor + 1) % classes;
            while (expired < budget)
            {
                int slot = _expiryHead[c];
                if (slot < 0 || nowMs < _entries[slot].Expiration)
                {
                    break;
                }

                Remove(slot, RemovalReason.Expired);
                expired++;
            }
        }

        DrainRemovals(removed);
        return expired;
    }

    /// <summary>Hands over (and forgets) the removal notices gathered since the last drain.</summary>
    public void DrainRemovals(List<RemovedConnection>? removed)
    {
        removed?.AddRange(_pendingRemovals);
        _pendingRemovals.Clear();
    }

    /// <summary>The earliest expiry of any connection, or null when the table is empty (for timers).</summary>
    public long? NextExpirationMs
    {
        get
        {
            long? next = null;
            foreach (int slot in _expiryHead)
            {
                if (slot >= 0 && (next is null || _entries[slot].Expiration < next))
                {
                    next = _entries[slot].Expiration;
                }
            }

            return next;
        }
    }

    /// <summary>Restarts a linked connection's expiry in <paramref name="timeoutClass"/> (OVS conn_update_expiration).</summary>
    private void RenewExpiry(int slot, TimeoutClass timeoutClass, long nowMs)
    {
        ref var entry = ref _entries[slot];
        if (entry.Timeout == timeoutClass && _expiryTail[(int)timeoutClass] == slot)
        {
            // Already last of its list: the order holds with the new expiry (the usual busy connection).
            entry.Expiration = nowMs + _timeoutMs[(int)timeoutClass];
            return;
        }

        UnlinkExpiry(slot);
        LinkExpiry(slot, timeoutClass, nowMs);
    }

    /// <summary>Appends a connection to its class list (OVS conn_init_expiration).</summary>
    private void LinkExpiry(int slot, TimeoutClass timeoutClass, long nowMs)
    {
        ref var entry = ref _entries[slot];
        entry.Timeout = timeoutClass;
        entry.Expiration = nowMs + _timeoutMs[(int)timeoutClass];
        int c = (int)timeoutClass;
        entry.ExpiryPrev = _expiryTail[c];
        entry.ExpiryNext = -1;
        if (_expiryTail[c] >= 0)
        {
            _entries[_expiryTail[c]].ExpiryNext = slot;
        }
        else
        {
            _expiryHead[c] = slot;
        }

        _expiryTail[c] = slot;
    }

    private void UnlinkExpiry(int slot)
    {
        ref var entry = ref _entries[slot];
        int c = (int)entry.Timeout;
        if (entry.ExpiryPrev >= 0)
        {
            _entries[entry.ExpiryPrev].ExpiryNext = entry.ExpiryNext;
        }
        else
        {
            _expiryHead[c] = entry.ExpiryNext;
        }

        if (entry.ExpiryNext >= 0)
        {
            _entries[entry.ExpiryNext].ExpiryPrev = entry.ExpiryPrev;
        }
        else
        {
            _expiryTail[c] = entry.ExpiryPrev;
        }

        entry.ExpiryPrev = -1;
        entry.ExpiryNext = -1;
    }
}
