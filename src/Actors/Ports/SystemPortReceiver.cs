using Actors.PacketPath;
using Actors.Ports.Linux;
using Akka.Actor;
using Datapath.Packets;

namespace Actors.Ports;

/// <summary>A receive thread of a system port has stopped handing frames to its PMD (pause <paramref name="Generation"/>): nothing of it is in flight but what the PMD holds.</summary>
internal sealed record ReceiverPaused(int Queue, long Generation) : INoSerializationVerificationNeeded;

/// <summary>
/// One receive queue of a system port: a dedicated thread (so no actor thread ever waits on a
/// socket) reading its packet socket, a member of the port's fanout group. Frames are copied into
/// packets of the queue's pool and sent to the queue's PMD as <see cref="PathBatch"/>es of up to 32
/// with the port actor as AckTo, as soon as the socket has nothing more waiting.
///
/// Backpressure as a NIC's receive ring: the socket's buffer is the ring. While the PMD has its
/// window full (<see cref="SharedReceiveWindow"/>) the thread stops reading, frames wait in the
/// buffer, and what the kernel drops when it is full is counted as rx dropped: overload (read from
/// PACKET_STATISTICS). A frame that finds the pool empty is dropped (rx dropped: pool empty); so
/// is a frame longer than the MTU allows (rx dropped: too long).
///
/// The thread waits in poll(2) for at most <see cref="SystemPortSettings.PollInterval"/>, so a stop
/// or a pause takes effect within that time. Counters have one writer (the thread) and are read by
/// the port actor.
/// </summary>
internal sealed class SystemPortReceiver : IDisposable
{
    // Larger than any frame a GSO-capable interface hands over, so an oversize frame is seen whole and counted.
    private const int ScratchBytes = 65_536;

    private readonly PacketSocket _socket;
    private readonly uint _port;
    private readonly int _pmd;
    private readonly IActorRef _pmdActor;
    private readonly SharedReceiveWindow _window;
    private readonly ConcurrentBatchPool _batches;
    private readonly ConcurrentPacketPool _pool;
    private readonly IActorRef _owner;
    private readonly Func<long> _nowMs;
    private readonly TimeSpan _pollInterval;
    private readonly byte[] _scratch = new byte[ScratchBytes];
    private readonly ManualResetEventSlim _resume = new(false);
    private readonly Thread _thread;
    private volatile bool _stopping;
    private volatile bool _paused = true;
    private long _pauseGeneration;
    private long _pauseAnswered;

    private long _rxPackets;
    private long _rxBytes;
    private long _droppedOverload;
    private long _droppedPoolEmpty;
    private long _droppedTooLong;
    private long _errors;

    public SystemPortReceiver(
        PacketSocket socket,
        uint port,
        int queue,
        IReadOnlyList<IActorRef> pmds,
        SharedReceiveWindow window,
        ConcurrentBatchPool batches,
        ConcurrentPacketPool pool,
        IActorRef owner,
        Func<long> nowMs,
        TimeSpan pollInterval)
    {
        _socket = socket;
        _port = port;
        Queue = queue;
        _pmd = queue % pmds.Count;
        _pmdActor = pmds[_pmd];
        _window = window;
        _batches = batches;
        _pool = pool;
        _owner = owner;
        _nowMs = nowMs;
        _pollInterval = pollInterval;
        _thread = new Thread(Run) { IsBackground = true, Name = $"rx {socket.Interface.Name} q{queue}" };
    }

    public int Queue { get; }

    public long RxPackets => Volatile.Read(ref _rxPackets);

    public long RxBytes => Volatile.Read(ref _rxBytes);

    public long DroppedOverload => Volatile.Read(ref _droppedOverload);

    public long DroppedPoolEmpty => Volatile.Read(ref _droppedPoolEmpty);

    public long DroppedTooLong => Volatile.Read(ref _droppedTooLong);

    public long Errors => Volatile.Read(ref _errors);

    /// <summary>Starts the thread, paused: frames wait in the socket until <see cref="Resume"/>.</summary>
    public void Start() => _thread.Start();

    /// <summary>Hands frames to the PMD again.</summary>
    public void Resume()
    {
        _paused = false;
        _resume.Set();
    }

    /// <summary>Stops handing frames on; the thread tells the owner <see cref="ReceiverPaused"/> with <paramref name="generation"/> once it holds none.</summary>
    public void Pause(long generation)
    {
        Volatile.Write(ref _pauseGeneration, generation);
        _paused = true;
    }

    /// <summary>Ends the thread (within about two poll intervals) and closes the socket.</summary>
    public void Dispose() => Stop();

    /// <summary>Like <see cref="Dispose"/>; false when the thread did not end in time (it closes its socket itself when it does).</summary>
    public bool Stop()
    {
        _stopping = true;
        _resume.Set();
        if (_thread.IsAlive && !_thread.Join(_pollInterval * 4))
        {
            return false;
        }

        _resume.Dispose();
        return true;
    }

    private void Run()
    {
        try
        {
            while (!_stopping)
            {
                if (_paused)
                {
                    AnswerPause();
                    _resume.Reset();
                    if (_paused && !_stopping)
                    {
                        _resume.Wait(_pollInterval);
                    }

                    continue;
                }

                if (_socket.Poll(_pollInterval))
                {
                    ReceiveWaiting();
                }

                if (_socket.TakeKernelDrops() is var dropped and > 0)
                {
                    Volatile.Write(ref _droppedOverload, _droppedOverload + dropped);
                }
            }
        }
        finally
        {
            _socket.Dispose();
        }
    }

    private void AnswerPause()
    {
        long generation = Volatile.Read(ref _pauseGeneration);
        if (generation != _pauseAnswered)
        {
            _pauseAnswered = generation;
            _owner.Tell(new ReceiverPaused(Queue, generation));
        }
    }

    /// <summary>Reads what the socket holds, in batches of up to 32; a partial batch goes at once (frames do not wait for company).</summary>
    private void ReceiveWaiting()
    {
        PathBatch? batch = null;
        while (!_stopping && !_paused)
        {
            // Frames wait in the socket while the PMD's window is full (the thread may block: it is its own).
            if (batch is null)
            {
                if (!_window.WaitForSlot(_pmd, _pollInterval))
                {
                    continue;
                }

                batch = PathBatch.Rent(_batches);
            }

            int length = _socket.Receive(_scratch);
            if (length == 0)
            {
                break;
            }

            if (length < 0)
            {
                // The interface went down or away: counted; the poll interval keeps this from spinning.
                Bump(ref _errors);
                Thread.Sleep(_pollInterval);
                break;
            }

            var frame = _scratch.AsSpan(0, length);
            if (!_socket.Interface.Fits(frame))
            {
                Bump(ref _droppedTooLong);
                continue;
            }

            if (!_pool.TryRent(out var packet))
            {
                Bump(ref _droppedPoolEmpty);
                continue;
            }

            packet.SetFrame(frame, _port);
            batch.Add(packet);
            Volatile.Write(ref _rxPackets, _rxPackets + 1);
            Volatile.Write(ref _rxBytes, _rxBytes + length);
            if (batch.IsFull)
            {
                Send(batch);
                batch = null;
            }
        }

        if (batch is null)
        {
            return;
        }

        if (batch.Count > 0)
        {
            Send(batch);
        }
        else
        {
            // Nothing came after all: the slot and the batch go back unused.
            batch.ReturnHome();
            _window.Taken(_pmd);
        }
    }

    private void Send(PathBatch batch) => _pmdActor.Tell(batch.Received(_nowMs(), Queue), _owner);

    private static void Bump(ref long counter) => Volatile.Write(ref counter, counter + 1);
}
