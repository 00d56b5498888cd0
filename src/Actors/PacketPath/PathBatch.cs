using Akka.Actor;
using Datapath.Packets;

namespace Actors.PacketPath;

/// <summary>
/// A batch of packets on the packet path, and the message that carries it: a port tells it to a PMD
/// (frames received: <see cref="ClockMs"/>, <see cref="Queue"/>, and the sender is told
/// <see cref="BatchTaken"/>) and a PMD tells it to a port (frames to send on <see cref="OutputPort"/>).
/// The batch is itself the message so that moving 32 packets allocates nothing: an envelope record
/// per batch was the last allocation on the actor path (about 100 bytes per batch, issue 17).
/// Like the packets in it, it is an ownership transfer: whoever sends it sets its header first and
/// never touches it again; it is local only and never crosses a node. The node's
/// <see cref="ConcurrentBatchPool"/> makes these (<see cref="NewPool"/>).
/// </summary>
public sealed class PathBatch : PacketBatch, INoSerializationVerificationNeeded
{
    /// <summary>Received frames: the datapath clock of their arrival (the capture's, in a replay).</summary>
    public long ClockMs { get; private set; }

    /// <summary>Received frames: the receive queue of the port they came from (pmd-rxq-show's per-queue load).</summary>
    public int Queue { get; private set; }

    /// <summary>Frames to send: the OpenFlow port they go out of.</summary>
    public uint OutputPort { get; private set; }

    /// <summary>The pool this batch came from, and goes back to (<see cref="ReturnHome"/>).</summary>
    public ConcurrentBatchPool? Home { get; private set; }

    /// <summary>A batch pool whose batches are path batches: a node's, or one PMD thread's.</summary>
    public static ConcurrentBatchPool NewPool() => new(() => new PathBatch());

    /// <summary>The pool's batch as a path batch (every batch of <see cref="NewPool"/>'s pools is one).</summary>
    public static PathBatch Rent(ConcurrentBatchPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var batch = pool.Rent() as PathBatch
            ?? throw new InvalidOperationException("The node's batch pool must be made by PathBatch.NewPool.");
        batch.Home = pool;
        return batch;
    }

    /// <summary>
    /// Gives the emptied batch back to the pool it came from: a PMD thread's batches stay on that
    /// thread's core (a batch that went to another thread's pool moved its cache lines with it). A
    /// batch no pool rented (made by hand) is simply left, as a packet of no pool is.
    /// </summary>
    public void ReturnHome()
    {
        if (Home is { } home)
        {
            home.Return(this);
        }
        else
        {
            Clear();
        }
    }

    /// <summary>Marks the batch as received frames, before it is told to a PMD.</summary>
    public PathBatch Received(long clockMs, int queue = 0)
    {
        ClockMs = clockMs;
        Queue = queue;
        return this;
    }

    /// <summary>Marks the batch as frames to send on <paramref name="port"/>, before it is told to the port.</summary>
    public PathBatch ToSend(uint port)
    {
        OutputPort = port;
        return this;
    }
}
