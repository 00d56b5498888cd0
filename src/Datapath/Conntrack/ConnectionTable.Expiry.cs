namespace Datapath.Conntrack;

/// <summary>
/// Expiry: one list per timeout policy and <see cref="TimeoutClass"/> (OVS's exp_lists), ordered by
/// the expiry each connection had when it was queued, since every connection of a list gets the same timeout.
/// Traffic renews a connection in place (no list surgery on the packet path, which at a million
/// connections would cost three more cache misses per packet); the sweep finds renewed heads and
/// queues them again at the tail of their current class. A sweep looks at a bounded number of
/// heads per call, so no sweep stalls packets. A requeued connection may sit behind younger ones
/// and leave up to one timeout late; lookups never find a connection past its expiry.
/// </summary>
public sealed partial class ConnectionTable
{
    private int _sweepCursor;

    /// <summary>
    /// Removes at most <paramref name="budget"/> expired connections, looking at no more than
    /// 2 x <paramref name="budget"/> list heads (OVS ct_sweep, in bounded slices),
    /// and reports, into <paramref name="removed"/> when given, every connection that left the table
    /// since the last call: those removed now and those that lookups found expired or new SYNs
    /// replaced meanwhile.
    /// </summary>
    /// <returns>The number of connections this call expired.</returns>
    public int Sweep(long nowMs, int budget, List<RemovedConnection>? removed = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(budget);
        int expired = 0;
        int looked = 0;
        int maxLooks = (int)Math.Min(int.MaxValue, 2L * budget);
        int classes = _expiryHead.Length;

        // Round-robin over the classes so that a long list cannot starve the others.
        for (int visited = 0; visited < classes && expired < budget && looked < maxLooks; visited++)
        {
            int c = _sweepCursor;
            _sweepCursor = (_sweepCursor + 1) % classes;
            while (expired < budget && looked < maxLooks)
            {
                int slot = _expiryHead[c];
                if (slot < 0 || nowMs < _entries[slot].QueuedExpiration)
                {
                    break;
                }

                looked++;
                ref var entry = ref _entries[slot];
                if (nowMs >= entry.Expiration)
                {
                    Remove(slot, RemovalReason.Expired);
                    expired++;
                }
                else
                {
                    // Renewed since it was queued: queue it again with its current expiry and class.
                    UnlinkExpiry(slot);
                    Enqueue(slot, entry.Timeout, entry.Expiration);
                }
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

    /// <summary>
    /// When the next sweep may find work: the earliest queued expiry, or null when the table is
    /// empty (for timers; a renewed connection expires later than this says).
    /// </summary>
    public long? NextExpirationMs
    {
        get
        {
            long? next = null;
            foreach (int slot in _expiryHead)
            {
                if (slot >= 0 && (next is null || _entries[slot].QueuedExpiration < next))
                {
                    next = _entries[slot].QueuedExpiration;
                }
            }

            return next;
        }
    }

    /// <summary>
    /// Restarts a connection's expiry in <paramref name="timeoutClass"/> (OVS conn_update_expiration),
    /// in place: the sweep requeues it when it reaches the head of its list.
    /// </summary>
    private void RenewExpiry(int slot, TimeoutClass timeoutClass, long nowMs)
    {
        ref var entry = ref _entries[slot];
        long expiration = nowMs + _timeoutMs[ListOf(entry.Policy, timeoutClass)];
        if (entry.Timeout == timeoutClass || expiration >= entry.QueuedExpiration)
        {
            entry.Timeout = timeoutClass;
            entry.Expiration = expiration;
            return;
        }

        // A shorter class than the one it is queued under: requeue now, or the sweep would find it late.
        UnlinkExpiry(slot);
        entry.Timeout = timeoutClass;
        Enqueue(slot, timeoutClass, expiration);
    }

    /// <summary>Queues a new connection in its class list (OVS conn_init_expiration).</summary>
    private void LinkExpiry(int slot, TimeoutClass timeoutClass, long nowMs)
    {
        _entries[slot].Timeout = timeoutClass;
        Enqueue(slot, timeoutClass, nowMs + _timeoutMs[ListOf(_entries[slot].Policy, timeoutClass)]);
    }

    private void Enqueue(int slot, TimeoutClass timeoutClass, long expiration)
    {
        ref var entry = ref _entries[slot];
        entry.Expiration = expiration;
        entry.QueuedExpiration = expiration;
        entry.QueuedClass = timeoutClass;
        int c = ListOf(entry.Policy, timeoutClass);
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
        int c = ListOf(entry.Policy, entry.QueuedClass);
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

    private static int ListOf(byte policy, TimeoutClass timeoutClass) => (policy * Classes) + (int)timeoutClass;
}
