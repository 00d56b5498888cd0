using Actors.Wire;

namespace Actors.Node;

// A replay over two processes (`replay --nodes 2`): the process that reads the capture runs node A
// and sends each run of port 2's frames, in capture order, to node B's replay actor, waiting for
// its verdicts before the next run, so that both nodes see the capture in order.

/// <summary>
/// Frames to replay on the receiving node, in order; answered with <see cref="ReplayRunDone"/> or
/// <see cref="ReplayRunFailed"/>. Arrays of equal length, at most <see cref="MaxFrames"/> frames and
/// <see cref="MaxBytes"/> bytes of frames (the sender splits longer runs).
/// </summary>
public sealed record ReplayRun(long[] Numbers, uint[] Ports, long[] TimesMs, byte[][] Frames) : IWireMessage
{
    public const int MaxFrames = 1024;
    public const int MaxBytes = 64 * 1024;
}

/// <summary>One verdict line per frame of a <see cref="ReplayRun"/>, in its order.</summary>
public sealed record ReplayRunDone(string[] Verdicts) : IWireMessage;

/// <summary>A <see cref="ReplayRun"/> that was refused or failed, and why.</summary>
public sealed record ReplayRunFailed(string Reason) : IWireMessage;

/// <summary>The replay is over: the node leaves the cluster (its shards hand their tables over) and its process exits.</summary>
public sealed record LeaveReplay : IWireMessage
{
    public static LeaveReplay Instance { get; } = new();

    private LeaveReplay()
    {
    }
}
