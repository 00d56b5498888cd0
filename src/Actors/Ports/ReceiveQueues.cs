using Actors.PacketPath;
using Akka.Actor;
using Datapath.Flow;
using Datapath.Packets;
using Traffic;

namespace Actors.Ports;

/// <summary>What happened to a frame offered to its receive queue.</summary>
internal enum QueueOffer
{
    /// <summary>The frame is in its queue's batch; the batch belongs to the PMD now or when flushed.</summary>
    Accepted,

    /// <summary>The queue's PMD already has its window of batches outstanding: the frame was not taken.</summary>
    WindowFull,
}

/// <summary>
/// The receive side of a port actor's ports, as a NIC with RSS does it: each port has
/// <see cref="QueuesPerPort"/> queues, a frame goes to queue <c>PlacementHash(key) mod QueuesPerPort</c> (a symmetric RSS: both directions of a connection share a queue, and the PMD of that queue hosts the connection's conntrack shard),
/// and queue q of every port is served by PMD <c>q mod PmdCount</c> (so with as many queues as PMDs
/// each PMD serves one queue of each port). Frames are gathered per queue into batches of up to 32,
/// sent as a <see cref="PathBatch"/> with the owner as sender (told <see cref="BatchTaken"/>).
///
/// Backpressure: a PMD may have at most <see cref="Window"/> batches from this owner that it has not
/// yet taken (acknowledged with <see cref="BatchTaken"/>, whose Pmd is its index in the PMD list).
/// A batch takes its window slot when it is opened and gives it back when the PMD takes it, so the
/// PMD's mailbox never holds more than the window; when no slot is free the frame is refused and the
/// owner decides (drop and count, or wait). A plain class driven by one actor; not thread-safe.
/// </summary>
internal sealed class ReceiveQueues
{
    private readonly IReadOnlyList<IActorRef> _pmds;
    private readonly ConcurrentBatchPool _batches;
    private readonly IActorRef _owner;
    private readonly PathBatch?[] _open;
    private readonly int[] _outstanding;
    private readonly int[] _queuesOfPmd;
    private readonly ExtractionStats _extraction = new();
    private FlowKey _key;

    /// <param name="ports">How many ports the owner serves (queues are kept per port index 0..ports-1).</param>
    public ReceiveQueues(int ports, int queuesPerPort, int window, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, IActorRef owner)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ports, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(queuesPerPort, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        ArgumentNullException.ThrowIfNull(pmds);
        ArgumentOutOfRangeException.ThrowIfZero(pmds.Count, nameof(pmds));
        QueuesPerPort = queuesPerPort;
        Window = window;
        _pmds = pmds;
        _batches = batches;
        _owner = owner;
        _open = new PathBatch?[ports * queuesPerPort];
        _outstanding = new int[pmds.Count];
        _queuesOfPmd = new int[pmds.Count];
        for (int q = 0; q < queuesPerPort; q++)
        {
            _queuesOfPmd[PmdOfQueue(q)]++;
        }
    }

    public int QueuesPerPort { get; }

    public int Window { get; }

    public int PmdCount => _pmds.Count;

    /// <summary>Batches sent to or opened for <paramref name="pmd"/> and not yet taken by it.</summary>
    public int Outstanding(int pmd) => _outstanding[pmd];

    /// <summary>Batches sent and not yet taken, over all PMDs.</summary>
    public int TotalOutstanding
    {
        get
        {
            int total = 0;
            foreach (int n in _outstanding)
            {
                total += n;
            }

            return total;
        }
    }

    /// <summary>The PMD serving queue <paramref name="queue"/> of any port.</summary>
    public int PmdOfQueue(int queue) => queue % _pmds.Count;

    /// <summary>
    /// The PMD whose queues receive a connection's frames (either direction), as <see cref="QueueOf"/>
    /// places its frames: for a generator split by PMD (<see cref="ConnectionShare"/>).
    /// </summary>
    public static ConnectionPlacement PmdPlacement(int queuesPerPort, int pmds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queuesPerPort, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pmds, 1);
        return (protocol, addressA, portA, addressB, portB) =>
            QueueOfHash(ConnectionHash.PlacementHash(protocol, addressA, portA, addressB, portB), queuesPerPort) % pmds;
    }

    /// <summary>The receive queue of a frame: its RSS hash (Toeplitz, as a NIC) modulo the queues.</summary>
    public int QueueOf(ReadOnlySpan<byte> frame, uint inPort)
    {
        if (QueuesPerPort == 1)
        {
            return 0;
        }

        var metadata = default(PacketMetadata);
        metadata.Reset(inPort);
        FlowExtractor.Extract(frame, in metadata, ref _key, _extraction, out _, out _);
        return QueueOfHash(ConnectionHash.PlacementHash(in _key), QueuesPerPort);
    }

    private static int QueueOfHash(uint placementHash, int queuesPerPort) => (int)(placementHash % (uint)queuesPerPort);

    /// <summary>
    /// True when one frame for each queue of a port could be accepted without a refusal: every PMD
    /// has as many free slots as it serves queues of one port (or its whole window, if smaller).
    /// </summary>
    public bool CanAcceptOneBatchPerQueue()
    {
        for (int pmd = 0; pmd < _outstanding.Length; pmd++)
        {
            if (Window - _outstanding[pmd] < Math.Min(_queuesOfPmd[pmd], Window))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when <see cref="Offer"/> would take a frame for that queue now (its batch is open, or its PMD has a free slot).</summary>
    public bool CanOffer(int portIndex, int queue) =>
        _open[(portIndex * QueuesPerPort) + queue] is not null || _outstanding[PmdOfQueue(queue)] < Window;

    /// <summary>
    /// Offers a frame its source cannot hold back (a generator's host, as a NIC's wire): accepted and
    /// counted as received, or refused, counted as an overload drop and its packet given back.
    /// </summary>
    public bool OfferOrDrop(int portIndex, int queue, Packet packet, long nowMs, PortCounters counters)
    {
        int length = packet.Length;
        if (Offer(portIndex, queue, packet, nowMs, out _) == QueueOffer.Accepted)
        {
            counters.Received(length);
            return true;
        }

        counters.DroppedOverload();
        PortPools.Release(packet);
        return false;
    }

    /// <summary>Puts <paramref name="packet"/> into its queue's batch (port index, queue); a full batch is sent at once.</summary>
    public QueueOffer Offer(int portIndex, int queue, Packet packet, long nowMs, out int pmd)
    {
        pmd = PmdOfQueue(queue);
        ref var open = ref _open[(portIndex * QueuesPerPort) + queue];
        if (open is null)
        {
            if (_outstanding[pmd] >= Window)
            {
                return QueueOffer.WindowFull;
            }

            _outstanding[pmd]++;
            open = PathBatch.Rent(_batches);
        }

        open.Add(packet);
        if (open.IsFull)
        {
            Send(open, pmd, queue, nowMs);
            open = null;
        }

        return QueueOffer.Accepted;
    }

    /// <summary>Sends every partly filled batch (the end of a round: frames do not wait for company).</summary>
    public void Flush(long nowMs)
    {
        for (int i = 0; i < _open.Length; i++)
        {
            if (_open[i] is { } batch)
            {
                Send(batch, PmdOfQueue(i % QueuesPerPort), i % QueuesPerPort, nowMs);
                _open[i] = null;
            }
        }
    }

    /// <summary>The PMD took a batch: its slot is free again. An unknown or surplus ack is ignored.</summary>
    public void Taken(int pmd)
    {
        if ((uint)pmd < (uint)_outstanding.Length && _outstanding[pmd] > 0)
        {
            _outstanding[pmd]--;
        }
    }

    private void Send(PathBatch batch, int pmd, int queue, long nowMs) =>
        _pmds[pmd].Tell(batch.Received(nowMs, queue), _owner);
}
