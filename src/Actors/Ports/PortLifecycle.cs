namespace Actors.Ports;

/// <summary>Where a port's traffic stands (<see cref="PortLifecycle"/>).</summary>
internal enum TrafficPhase
{
    /// <summary>Not feeding frames (the start, or after <see cref="StopTraffic"/>); <see cref="StartTraffic"/> runs it.</summary>
    Stopped,

    /// <summary>Feeding frames to the PMDs.</summary>
    Running,

    /// <summary>A finite source reached its end (a capture read to the last record, a generator at its frame limit); it never runs again.</summary>
    Ended,

    /// <summary>The source cannot run (an unreadable capture); every start and drain is answered with the reason.</summary>
    Failed,
}

/// <summary>
/// A port's traffic and drain as one state machine, shared by every port type: start, stop, the
/// end of a finite source, a failure, and a drain (<see cref="DrainAndReport"/>), which stops an
/// endless source at once and lets a finite one that runs go on to its end, then quiesces the PMDs
/// exactly once. A plain class driven by one actor (<see cref="PortActor"/>); not thread-safe.
/// </summary>
/// <param name="finite">The source ends by itself (a capture that does not loop, a generator with a frame limit, a replay).</param>
internal sealed class PortLifecycle(bool finite)
{
    public TrafficPhase Phase { get; private set; } = TrafficPhase.Stopped;

    public bool Running => Phase == TrafficPhase.Running;

    /// <summary>Why the source failed; null unless <see cref="TrafficPhase.Failed"/>.</summary>
    public string? Failure { get; private set; }

    /// <summary>Someone waits for the drain's answer.</summary>
    public bool Draining { get; private set; }

    /// <summary>The PMDs were asked to quiesce for the drain and have not all answered.</summary>
    public bool Quiescing { get; private set; }

    /// <summary>Runs a stopped source; false (nothing changes) when it runs already, ended, failed or drains.</summary>
    public bool Start()
    {
        if (Phase != TrafficPhase.Stopped || Draining)
        {
            return false;
        }

        Phase = TrafficPhase.Running;
        return true;
    }

    /// <summary>Stops a running source; false when it was not running.</summary>
    public bool Stop()
    {
        if (Phase != TrafficPhase.Running)
        {
            return false;
        }

        Phase = TrafficPhase.Stopped;
        return true;
    }

    /// <summary>The finite source has no more frames; false when it had ended or failed already.</summary>
    public bool End()
    {
        if (Phase is TrafficPhase.Ended or TrafficPhase.Failed)
        {
            return false;
        }

        Phase = TrafficPhase.Ended;
        return true;
    }

    /// <summary>The source cannot go on; a drain in progress is over (its waiters get the reason).</summary>
    public void Fail(string reason)
    {
        Phase = TrafficPhase.Failed;
        Failure = reason;
        Draining = false;
        Quiescing = false;
    }

    /// <summary>
    /// A drain is asked for: an endless source stops at once, a finite one that runs goes on to its
    /// end. True when this stopped the source. A failed source does not drain (the caller answers the failure).
    /// </summary>
    public bool RequestDrain()
    {
        if (Phase == TrafficPhase.Failed)
        {
            return false;
        }

        Draining = true;
        return !finite && Stop();
    }

    /// <summary>
    /// True, once per drain, when the PMDs are to be quiesced: a drain is asked for, the source does
    /// not run, and the port type says nothing of its own is still under way (<paramref name="sourceStill"/>).
    /// </summary>
    public bool TryBeginQuiesce(bool sourceStill)
    {
        if (!Draining || Quiescing || Phase is TrafficPhase.Running or TrafficPhase.Failed || !sourceStill)
        {
            return false;
        }

        Quiescing = true;
        return true;
    }

    /// <summary>Every PMD answered the drain's quiesce: the waiters are answered, the port may start again (unless it ended).</summary>
    public void Drained()
    {
        Draining = false;
        Quiescing = false;
    }
}
