using Actors.PacketPath;
using Akka.Actor;
using Akka.Event;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Replay;

namespace Actors.Ports;

/// <summary>
/// The `pcap` port type: reads a capture and receives its frames, on one port or on ports 1 and 2 by
/// source MAC, spread over each port's receive queues by RSS and sent to the queues' PMDs in batches
/// of up to 32 (see <see cref="ReceiveQueues"/>); writes what the PMDs transmit on each port to that
/// port's tx file. Optionally loops over the capture.
///
/// Never drops: unlike a generator, a capture cannot send a frame again, so when the PMD of a frame's
/// queue has its window of batches full, or the receive pool is empty, the port waits (for the PMD's
/// ack, or a short timer) and goes on with that frame. <see cref="PcapPortSettings.Ordering"/> says
/// whether a frame may overtake one of the other direction. The datapath clock follows the capture's
/// timestamps (moved on by the capture's length on each new pass); tx records carry that clock.
///
/// A capture that cannot be read (missing, not a pcap, a truncated record) or a tx file that cannot
/// be created stops the input; the reason, naming the file, is logged, published on the event
/// stream and answered as <see cref="PortFailed"/> to <see cref="StartTraffic"/> and <see cref="DrainAndReport"/>.
/// </summary>
public sealed class PcapPortActor : ReceiveActor, IWithTimers
{
    // Frames one pump message handles at most, so acks, transmissions and queries interleave.
    private const int FramesPerPump = 1024;

    // Between two passes of a looping capture, the clock moves on by this much past the last frame.
    private const long PassGapNs = 1_000_000;

    private readonly PcapPortSettings _settings;
    private readonly IReadOnlyList<uint> _ports;
    private readonly Dictionary<uint, int> _portIndex = [];
    private readonly PortCounters[] _counters;
    private readonly ConcurrentPacketPool[] _receivePools;
    private readonly PcapWriter?[] _writers;
    private readonly ReceiveQueues _queues;
    private readonly PmdQuiescer _barrier;
    private readonly PmdQuiescer _drain;
    private readonly bool[] _sentSinceBarrier;
    private readonly ConcurrentBatchPool _batches;
    private readonly DrainWaiters _drainWaiters = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private PcapReader? _reader;
    private string? _failure;
    private bool _running;
    private bool _pumpScheduled;
    private bool _inputDone;

    // The frame read and not yet sent: first in the reader's buffer, then in a packet of the pool.
    private bool _frameReady;
    private int _framePortIndex;
    private Packet? _held;
    private int _heldQueue;

    private uint _lastPort;
    private long _clockNs;
    private long _offsetNs;
    private long _firstCaptureNs = -1;
    private long _lastCaptureNs;
    private long _framesRead;
    private long _framesSkipped;
    private long _passFrames;
    private int _passes;

    public PcapPortActor(PcapPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(pmds);
        _settings = settings;
        _batches = batches;
        _ports = settings.Ports;
        _counters = new PortCounters[_ports.Count];
        _receivePools = new ConcurrentPacketPool[_ports.Count];
        _writers = new PcapWriter?[_ports.Count];
        for (int i = 0; i < _ports.Count; i++)
        {
            _portIndex[_ports[i]] = i;
            _counters[i] = new PortCounters(_ports[i]);
            _receivePools[i] = new ConcurrentPacketPool(settings.ReceivePoolSize);
        }

        _queues = new ReceiveQueues(_ports.Count, settings.QueuesPerPort, settings.Window, pmds, batches, Self);
        _barrier = new PmdQuiescer(pmds, Self);
        _drain = new PmdQuiescer(pmds, Self, tokenBase: 1L << 48);
        _sentSinceBarrier = new bool[pmds.Count];

        Receive<StartTraffic>(_ => HandleStart());
        Receive<StopTraffic>(_ => _running = false);
        Receive<DrainAndReport>(_ => HandleDrain());
        Receive<GetPortStatistics>(_ => Sender.Tell(Statistics()));
        Receive<BatchTaken>(HandleTaken);
        Receive<TransmitBatch>(HandleTransmit);
        Receive<Quiesced>(HandleQuiesced);
        Receive<Pump>(_ => HandlePump());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The actor alone; its <see cref="PortLink"/>s (one transmit pool per port) are made by <see cref="Start"/>.</summary>
    public static Props Props(PcapPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches) =>
        Akka.Actor.Props.Create(() => new PcapPortActor(settings, pmds, batches));

    /// <summary>Starts the actor and makes the links of its ports for <c>DatapathNode.UsePorts</c>.</summary>
    public static PortHandle Start(IActorRefFactory factory, PcapPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(settings);
        var actor = factory.ActorOf(Props(settings, pmds, batches), name);
        var links = settings.Ports.Select(port => new PortLink(port, actor, new ConcurrentPacketPool(settings.TransmitPoolSize), Type: "pcap")).ToArray();
        return new PortHandle(actor, links);
    }

    protected override void PreStart()
    {
        foreach (var (port, path) in _settings.TxPaths)
        {
            try
            {
                _writers[_portIndex[port]] = PcapWriter.Create(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Fail($"tx pcap {path}: {e.Message}");
                return;
            }
        }

        OpenReader();
    }

    protected override void PostStop()
    {
        ReleaseHeld();
        _reader?.Dispose();
        foreach (var writer in _writers)
        {
            writer?.Dispose();
        }
    }

    private void HandleStart()
    {
        if (_failure is not null)
        {
            Sender.Tell(new PortFailed(_failure));
            return;
        }

        _running = true;
        SchedulePump();
    }

    private void HandleDrain()
    {
        if (_failure is not null)
        {
            Sender.Tell(new PortFailed(_failure));
            return;
        }

        _drainWaiters.Add(Sender);

        // A capture that does not loop is finite: it runs to its end first.
        if (_settings.Loop || !_running)
        {
            _running = false;
        }

        TryDrain();
    }

    private void HandleTaken(BatchTaken message)
    {
        _queues.Taken(message.Pmd);
        SchedulePump();
    }

    private void HandleTransmit(TransmitBatch message)
    {
        bool known = _portIndex.TryGetValue(message.Port, out int index);
        foreach (var packet in message.Batch.Packets)
        {
            if (known)
            {
                _counters[index].Transmitted(packet.Length);
                _writers[index]?.Write(packet.Data, _clockNs);
            }

            packet.Pool?.Return(packet);
        }

        _batches.Return(message.Batch);
    }

    private void HandleQuiesced(Quiesced message)
    {
        if (_barrier.Answered(message))
        {
            Array.Clear(_sentSinceBarrier);
            _lastPort = 0;
            SchedulePump();
            TryDrain();
        }
        else if (_drain.Answered(message))
        {
            foreach (var writer in _writers)
            {
                writer?.Flush();
            }

            var drained = new PortDrained(Statistics());
            _drainWaiters.Answer(drained);
        }
    }

    private void HandlePump()
    {
        _pumpScheduled = false;
        if (!_running || _failure is not null || _inputDone || _barrier.Active)
        {
            return;
        }

        for (int n = 0; n < FramesPerPump; n++)
        {
            if (_held is null && !TryTakeFrame())
            {
                // Waiting (a barrier, an empty pool) or finished; TryTakeFrame arranged what comes next.
                _queues.Flush(ClockMs);
                TryDrain();
                return;
            }

            int portIndex = _framePortIndex;
            int length = _held!.Length;
            if (_queues.Offer(portIndex, _heldQueue, _held, ClockMs, out int pmd) == QueueOffer.WindowFull)
            {
                // The PMD's ack wakes the pump; the frame waits, never dropped.
                _queues.Flush(ClockMs);
                return;
            }

            _held = null;
            _counters[portIndex].Received(length);
            _sentSinceBarrier[pmd] = true;
            _lastPort = _ports[portIndex];
        }

        _queues.Flush(ClockMs);
        SchedulePump();
    }

    /// <summary>
    /// Reads the next frame of a port into a packet of the pool (<see cref="_held"/>). False when the
    /// pump must stop: the input ended or failed, a causal barrier started, or the pool is empty (a
    /// timer retries).
    /// </summary>
    private bool TryTakeFrame()
    {
        while (true)
        {
            if (!_frameReady && !TryReadFrame())
            {
                return false;
            }

            if (_framePortIndex < 0)
            {
                _framesSkipped++;
                _frameReady = false;
                continue;
            }

            uint port = _ports[_framePortIndex];
            if (_settings.Ordering == PcapOrdering.Causal && _lastPort != 0 && port != _lastPort)
            {
                _queues.Flush(ClockMs);
                _barrier.Start(_sentSinceBarrier);
                return false;
            }

            if (!_receivePools[_framePortIndex].TryRent(out var packet))
            {
                Timers.StartSingleTimer(nameof(Pump), Pump.Instance, _settings.RetryInterval);
                return false;
            }

            packet.SetFrame(_reader!.CurrentFrame, port);
            _frameReady = false;
            _held = packet;
            _heldQueue = _queues.QueueOf(packet.Data, port);
            return true;
        }
    }

    /// <summary>Reads a record into the reader's buffer, starting a new pass at the end of a looping capture.</summary>
    private bool TryReadFrame()
    {
        try
        {
            PcapRecordHeader header;
            while (!_reader!.TryReadNext(out header))
            {
                _passes++;
                if (!_settings.Loop || _passFrames == 0)
                {
                    _inputDone = true;
                    return false;
                }

                _offsetNs += _lastCaptureNs - _firstCaptureNs + PassGapNs;
                _reader.Dispose();
                _reader = null;
                if (!OpenReader())
                {
                    return false;
                }
            }

            _framesRead++;
            _passFrames++;
            if (_firstCaptureNs < 0)
            {
                _firstCaptureNs = header.TimestampNs;
            }

            _lastCaptureNs = header.TimestampNs;
            _clockNs = Math.Max(_clockNs, header.TimestampNs + _offsetNs);
            uint port = _settings.InPort ?? ReplayPorts.BySourceMac(_reader.CurrentFrame);
            _framePortIndex = port != 0 && _portIndex.TryGetValue(port, out int index) ? index : -1;
            _frameReady = true;
            return true;
        }
        catch (PcapFormatException e)
        {
            Fail("rx pcap " + e.Message);
            return false;
        }
        catch (IOException e)
        {
            Fail($"rx pcap {_settings.RxPath}: {e.Message}");
            return false;
        }
    }

    private bool OpenReader()
    {
        try
        {
            _reader = PcapReader.Open(_settings.RxPath);
            _passFrames = 0;
            return true;
        }
        catch (PcapFormatException e)
        {
            Fail("rx pcap " + e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail($"rx pcap {_settings.RxPath}: {e.Message}");
        }

        return false;
    }

    /// <summary>Once stopped or at the end of the input, and no barrier is out: quiesces every PMD, then answers the waiters.</summary>
    private void TryDrain()
    {
        if (_drainWaiters.Count == 0 || _drain.Active || _barrier.Active || (_running && !_inputDone) || _failure is not null)
        {
            return;
        }

        ReleaseHeld();
        _queues.Flush(ClockMs);
        _drain.Start();
    }

    private void Fail(string reason)
    {
        _failure = reason;
        _running = false;
        ReleaseHeld();
        _log.Error("{0}", reason);
        var failed = new PortFailed(reason);
        Context.System.EventStream.Publish(failed);
        _drainWaiters.Answer(failed);
    }

    /// <summary>A frame taken but not sent when the input stops goes back to its pool (it was never received).</summary>
    private void ReleaseHeld()
    {
        if (_held is not null)
        {
            _held.Pool?.Return(_held);
            _held = null;
        }

        _frameReady = false;
    }

    private void SchedulePump()
    {
        if (_running && !_pumpScheduled)
        {
            _pumpScheduled = true;
            Self.Tell(Pump.Instance);
        }
    }

    private long ClockMs => _clockNs / 1_000_000;

    private PortActorStatistics Statistics() =>
        new(
            _counters.Select(c => c.Snapshot()).ToArray(),
            null,
            new PcapProgress(_framesRead, _framesSkipped, _passes, _inputDone));

    private sealed class Pump : INoSerializationVerificationNeeded
    {
        public static Pump Instance { get; } = new();
    }
}
