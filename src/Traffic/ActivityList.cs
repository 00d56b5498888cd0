namespace Traffic;

/// <summary>
/// Connection slots ordered by their last activity (an intrusive doubly linked LRU list over slot
/// indices): touching moves a slot to the newest end, so the oldest is always at the head and
/// connection timeouts are found in O(1) without scanning. Allocation-free after construction.
/// </summary>
internal sealed class ActivityList
{
    private const int None = -1;

    private readonly int[] _prev;
    private readonly int[] _next;
    private readonly long[] _lastNs;
    private int _head = None;
    private int _tail = None;

    public ActivityList(int slots)
    {
        _prev = new int[slots];
        _next = new int[slots];
        _lastNs = new long[slots];
        _prev.AsSpan().Fill(None);
        _next.AsSpan().Fill(None);
    }

    /// <summary>Records activity of <paramref name="slot"/> at <paramref name="nowNs"/> (linking it in on first use).</summary>
    public void Touch(int slot, long nowNs)
    {
        _lastNs[slot] = nowNs;
        if (_tail == slot)
        {
            return;
        }

        if (_head == slot || _prev[slot] != None)
        {
            Unlink(slot);
        }

        _prev[slot] = _tail;
        _next[slot] = None;
        if (_tail != None)
        {
            _next[_tail] = slot;
        }
        else
        {
            _head = slot;
        }

        _tail = slot;
    }

    /// <summary>The least recently active slot and its last activity time.</summary>
    public bool TryPeekOldest(out int slot, out long lastNs)
    {
        slot = _head;
        lastNs = slot == None ? 0 : _lastNs[slot];
        return slot != None;
    }

    private void Unlink(int slot)
    {
        int prev = _prev[slot];
        int next = _next[slot];
        if (prev != None)
        {
            _next[prev] = next;
        }
        else
        {
            _head = next;
        }

        if (next != None)
        {
            _prev[next] = prev;
        }
        else
        {
            _tail = prev;
        }

        _prev[slot] = None;
        _next[slot] = None;
    }
}
