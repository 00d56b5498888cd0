using Traffic;

namespace Actors.Ports;

/// <summary>What the end of a handshake step means (<see cref="StreamHandshake.FinishStep"/>).</summary>
internal enum HandshakeStep
{
    /// <summary>Every frame was forwarded; the next step has begun.</summary>
    Next,

    /// <summary>Every frame of the last step was forwarded: every connection is established.</summary>
    Established,

    /// <summary>Some frame of the step was not forwarded: a connection is not established.</summary>
    Failed,
}

/// <summary>
/// The warm-up of a <see cref="StreamPortActor"/> as a state machine: step by step (UDP request and
/// reply; TCP SYN, SYN|ACK, ACK), one frame per connection from the step's port, then a check that
/// the datapath forwarded each of them to the other port. A plain class; not thread-safe.
/// </summary>
/// <param name="connectionsFrom">How many connections' frames a port sends (all of them, or the share of one PMD's queues).</param>
/// <param name="txPackets">Frames a port has transmitted so far (its tx counter).</param>
internal sealed class StreamHandshake(Func<uint, int> connectionsFrom, int steps, Func<uint, long> txPackets)
{
    private int _connections;
    private long _forwardedBefore;

    public int Step { get; private set; }

    /// <summary>The connection whose frame of this step goes next.</summary>
    public int Next { get; private set; }

    /// <summary>Every connection's frame of this step was sent: its end is awaited.</summary>
    public bool StepSent => Next >= _connections;

    /// <summary>The port whose host sends this step's frames.</summary>
    public uint Port => EstablishedStreams.HandshakePort(Step);

    /// <summary>The port this step's frames must be forwarded to.</summary>
    public uint Peer => EstablishedStreams.PeerOf(Port);

    /// <summary>Begins step 0.</summary>
    public void Begin() => BeginStep(0);

    /// <summary>Takes the next connection whose frame of this step is to be sent.</summary>
    public int TakeNext() => StepSent ? throw new InvalidOperationException("The step's frames were all sent.") : Next++;

    /// <summary>
    /// The step's frames are through the datapath (the PMDs are quiet): all forwarded to the peer
    /// port begins the next step, or ends the warm-up; anything less is a failure, described.
    /// </summary>
    public HandshakeStep FinishStep(out string? failure)
    {
        long forwarded = txPackets(Peer) - _forwardedBefore;
        if (forwarded != _connections)
        {
            failure = $"warm-up step {Step + 1} of {steps}: {forwarded} of {_connections} frames from port {Port} were forwarded to port {Peer}";
            return HandshakeStep.Failed;
        }

        failure = null;
        if (Step + 1 >= steps)
        {
            return HandshakeStep.Established;
        }

        BeginStep(Step + 1);
        return HandshakeStep.Next;
    }

    private void BeginStep(int step)
    {
        Step = step;
        Next = 0;
        _connections = connectionsFrom(Port);
        _forwardedBefore = txPackets(Peer);
    }
}
