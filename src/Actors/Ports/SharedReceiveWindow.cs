namespace Actors.Ports;

/// <summary>
/// The window of <see cref="ReceiveQueues"/> for receivers on several threads (a system port's
/// receive threads): each PMD may have at most <see cref="Window"/> batches from the owner that it
/// has not yet taken. A receiver takes a slot when it opens a batch for a PMD; the owner actor
/// gives it back on the PMD's <c>BatchTaken</c>. Slots are counted with compare-and-swap; a
/// receiver thread with nothing else to do may wait for a slot (<see cref="WaitForSlot"/>).
/// </summary>
internal sealed class SharedReceiveWindow : IDisposable
{
    private readonly int[] _outstanding;
    private readonly ManualResetEventSlim[] _freed;

    public SharedReceiveWindow(int pmds, int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pmds, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        _outstanding = new int[pmds];
        _freed = new ManualResetEventSlim[pmds];
        for (int i = 0; i < pmds; i++)
        {
            _freed[i] = new ManualResetEventSlim(false);
        }

        Window = window;
    }

    public int Window { get; }

    /// <summary>Batches opened for or sent to <paramref name="pmd"/> and not yet taken by it.</summary>
    public int Outstanding(int pmd) => Volatile.Read(ref _outstanding[pmd]);

    /// <summary>Takes a slot of <paramref name="pmd"/>'s window; false when the window is full (the frame is the caller's to drop).</summary>
    public bool TryTake(int pmd)
    {
        ref int slot = ref _outstanding[pmd];
        int seen = Volatile.Read(ref slot);
        while (seen < Window)
        {
            int previous = Interlocked.CompareExchange(ref slot, seen + 1, seen);
            if (previous == seen)
            {
                return true;
            }

            seen = previous;
        }

        return false;
    }

    /// <summary>Takes a slot of <paramref name="pmd"/>'s window, waiting up to <paramref name="timeout"/> for one to be given back. For receiver threads only (it blocks).</summary>
    public bool WaitForSlot(int pmd, TimeSpan timeout)
    {
        var freed = _freed[pmd];
        freed.Reset();
        if (TryTake(pmd))
        {
            return true;
        }

        freed.Wait(timeout);
        return TryTake(pmd);
    }

    public void Dispose()
    {
        foreach (var freed in _freed)
        {
            freed.Dispose();
        }
    }

    /// <summary>The PMD took a batch: its slot is free again. An unknown or surplus ack is ignored.</summary>
    public void Taken(int pmd)
    {
        if ((uint)pmd >= (uint)_outstanding.Length)
        {
            return;
        }

        ref int slot = ref _outstanding[pmd];
        int seen = Volatile.Read(ref slot);
        while (seen > 0)
        {
            int previous = Interlocked.CompareExchange(ref slot, seen - 1, seen);
            if (previous == seen)
            {
                _freed[pmd].Set();
                return;
            }

            seen = previous;
        }
    }
}
