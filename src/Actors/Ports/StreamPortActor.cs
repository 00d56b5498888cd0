using Actors.Pmd;
using Akka.Actor;
using Datapath.Packets;
using Traffic;

namespace Actors.Ports;

/// <summary>Establishes every connection of a <see cref="StreamPortActor"/>; answered with <see cref="StreamsEstablished"/> or <see cref="PortFailed"/>.</summary>
public sealed record EstablishStreams : INoSerializationVerificationNeeded
{
    public static EstablishStreams Instance { get; } = new();

    private EstablishStreams()
    {
    }
}

/// <summary>Every handshake frame went through the datapath and was forwarded to the other port: conntrack holds every connection as established.</summary>
public sealed record StreamsEstablished(PortActorStatistics Statistics) : INoSerializationVerificationNeeded;

/// <summary>
/// The bench's ports: ports 1 and 2 with the hosts of <see cref="EstablishedStreams"/> behind them,
/// feeding the PMDs through <see cref="ReceiveQueues"/> (RSS, batches of 32, window backpressure)
/// as <see cref="GeneratorPortActor"/> does unpaced: a closed loop that fills a batch per port only
/// when every PMD has room for it, and never drops at the receive side.
///
/// <see cref="EstablishStreams"/> runs the handshake one step at a time: every connection's frame of
/// the step, then a quiesce of the PMDs (<see cref="PmdQuiescer"/>), then a check that the datapath
/// forwarded all of them to the other port (a drop there means a connection is not established,
/// and the answer is <see cref="PortFailed"/>). Then <see cref="StartTraffic"/> sends data frames in
/// both directions at full speed, each port cycling through the connections, until
/// <see cref="StopTraffic"/> or <see cref="DrainAndReport"/>. Frames the PMDs transmit are counted
/// and returned to their pools; nobody answers them.
/// </summary>
public sealed class StreamPortActor : ReceiveActor, IWithTimers
{
    private const int Ports = 2;

    // Long enough for a 64-byte frame plus headroom for pushed headers.
    private const int PacketCapacity = Packet.DefaultHeadroom + 192;

    private const long DrainTokenBase = 1L << 40;

    private readonly StreamPortSettings _settings;
    private readonly EstablishedStreams _streams;
    private readonly ReceiveQueues _queues;
    private readonly ConcurrentPacketPool[] _receivePools = new ConcurrentPacketPool[Ports];
    private readonly PortCounters[] _counters = [new(EstablishedStreams.ClientPort), new(EstablishedStreams.ServerPort)];
    private readonly int[] _cursor = new int[Ports];
    private readonly ConcurrentBatchPool _batches;
    private readonly PmdQuiescer _stepQuiescer;
    private readonly PmdQuiescer _drainQuiescer;
    private readonly DrainWaiters _drainWaiters = new();
    private ushort[][]? _queueOf;
    private IActorRef? _establishWaiter;
    private Phase _phase = Phase.Idle;
    private int _step;
    private int _next;
    private long _forwardedBefore;
    private bool _roundScheduled;
    private int _firstPort;

    public StreamPortActor(StreamPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        _settings = settings;
        _batches = batches;
        _streams = new EstablishedStreams(settings.Protocol, settings.Connections);
        _queues = new ReceiveQueues(Ports, settings.QueuesPerPort, settings.Window, pmds, batches, Self);
        _stepQuiescer = new PmdQuiescer(pmds, Self);
        _drainQuiescer = new PmdQuiescer(pmds, Self, DrainTokenBase);
        for (int i = 0; i < Ports; i++)
        {
            _receivePools[i] = new ConcurrentPacketPool(settings.ReceivePoolSize, PacketCapacity);
        }

        Receive<EstablishStreams>(_ => HandleEstablish());
        Receive<StartTraffic>(_ => HandleStart());
        Receive<StopTraffic>(_ => Stop());
        Receive<DrainAndReport>(_ => HandleDrain());
        Receive<GetPortStatistics>(_ => Sender.Tell(Statistics()));
        Receive<BatchTaken>(HandleTaken);
        Receive<TransmitBatch>(HandleTransmit);
        Receive<Quiesced>(HandleQuiesced);
        Receive<Round>(_ => HandleRound());
        Receive<Tick>(_ => ScheduleRound());
    }

    private enum Phase
    {
        Idle,
        Handshake,
        Established,
        Streaming,
        Failed,
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(StreamPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches) =>
        Akka.Actor.Props.Create(() => new StreamPortActor(settings, pmds, batches));

    /// <summary>Starts the actor and makes the links (ports 1 and 2, each with its own transmit pool) for <c>DatapathNode.UsePortsAsync</c>.</summary>
    public static PortHandle Start(IActorRefFactory factory, StreamPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var actor = factory.ActorOf(Props(settings, pmds, batches), name);
        var links = new PortLink[Ports];
        for (int i = 0; i < Ports; i++)
        {
            links[i] = new PortLink((uint)(i + 1), actor, new ConcurrentPacketPool(settings.TransmitPoolSize, PacketCapacity));
        }

        return new PortHandle(actor, links);
    }

    private void HandleEstablish()
    {
        if (_phase != Phase.Idle)
        {
            Sender.Tell(new PortFailed($"streams cannot be established twice (now {_phase})"));
            return;
        }

        _establishWaiter = Sender;
        _queueOf = _queues.QueuesPerPort > 1 ? ClassifyConnections() : null;
        _phase = Phase.Handshake;
        BeginStep(0);
        Timers.StartPeriodicTimer(nameof(Tick), Tick.Instance, _settings.IdlePollInterval);
        ScheduleRound();
    }

    private void HandleStart()
    {
        if (_phase is Phase.Established)
        {
            _phase = Phase.Streaming;
            Timers.StartPeriodicTimer(nameof(Tick), Tick.Instance, _settings.IdlePollInterval);
            ScheduleRound();
        }
    }

    private void Stop()
    {
        if (_phase == Phase.Streaming)
        {
            _phase = Phase.Established;
        }

        if (_phase != Phase.Handshake)
        {
            Timers.Cancel(nameof(Tick));
        }
    }

    private void HandleDrain()
    {
        Stop();
        _drainWaiters.Add(Sender);
        if (!_drainQuiescer.Active)
        {
            _drainQuiescer.Start();
        }
    }

    private void HandleTaken(BatchTaken message)
    {
        _queues.Taken(message.Pmd);
        ScheduleRound();
    }

    private void HandleRound()
    {
        _roundScheduled = false;
        bool progressed = _phase switch
        {
            Phase.Handshake => HandshakeRound(),
            Phase.Streaming => StreamingRound(),
            _ => false,
        };
        if (progressed)
        {
            ScheduleRound();
        }
    }

    /// <summary>One batch of the current step's frames; once every connection has its frame, waits for the PMDs to finish them.</summary>
    private bool HandshakeRound()
    {
        if (_next >= _streams.Connections || _stepQuiescer.Active)
        {
            return false;
        }

        uint port = EstablishedStreams.HandshakePort(_step);
        int portIndex = (int)port - 1;
        if (!CanFill(portIndex))
        {
            return false;
        }

        long nowMs = NowMs();
        var pool = _receivePools[portIndex];
        for (int i = 0; i < PacketBatch.MaxSize && _next < _streams.Connections && pool.TryRent(out var packet); i++, _next++)
        {
            _streams.WriteHandshake(_step, _next, packet);
            Offer(portIndex, _next, packet, nowMs);
        }

        _queues.Flush(nowMs);
        if (_next >= _streams.Connections)
        {
            _stepQuiescer.Start();
            return false;
        }

        return true;
    }

    /// <summary>One batch of data frames per port that has room, the ports taking turns to go first.</summary>
    private bool StreamingRound()
    {
        long nowMs = NowMs();
        bool progressed = false;
        for (int i = 0; i < Ports; i++)
        {
            int portIndex = (_firstPort + i) % Ports;
            if (CanFill(portIndex))
            {
                FillData(portIndex, nowMs);
                progressed = true;
            }
        }

        _firstPort = (_firstPort + 1) % Ports;
        _queues.Flush(nowMs);
        return progressed;
    }

    private void FillData(int portIndex, long nowMs)
    {
        uint port = (uint)(portIndex + 1);
        var pool = _receivePools[portIndex];
        ref int cursor = ref _cursor[portIndex];
        for (int i = 0; i < PacketBatch.MaxSize && pool.TryRent(out var packet); i++)
        {
            _streams.WriteData(port, cursor, packet);
            Offer(portIndex, cursor, packet, nowMs);
            if (++cursor == _streams.Connections)
            {
                cursor = 0;
            }
        }
    }

    private bool CanFill(int portIndex) =>
        _queues.CanAcceptOneBatchPerQueue() && _receivePools[portIndex].Available >= PacketBatch.MaxSize;

    private void Offer(int portIndex, int connection, Packet packet, long nowMs)
    {
        int queue = _queueOf is { } queues ? queues[portIndex][connection] : 0;
        int length = packet.Length;
        if (_queues.Offer(portIndex, queue, packet, nowMs, out _) == QueueOffer.Accepted)
        {
            _counters[portIndex].Received(length);
        }
        else
        {
            // Not expected in a closed loop (a round fills only with room for it); counted, never hidden.
            _counters[portIndex].DroppedOverload();
            _receivePools[portIndex].Return(packet);
        }
    }

    private void HandleTransmit(TransmitBatch message)
    {
        bool known = message.Port - 1 < Ports;
        foreach (var packet in message.Batch.Packets)
        {
            if (known)
            {
                _counters[message.Port - 1].Transmitted(packet.Length);
            }

            packet.Pool?.Return(packet);
        }

        _batches.Return(message.Batch);
        ScheduleRound();
    }

    private void HandleQuiesced(Quiesced message)
    {
        if (_stepQuiescer.Answered(message))
        {
            EndStep();
        }

        if (_drainQuiescer.Answered(message))
        {
            var drained = new PortDrained(Statistics());
            _drainWaiters.Answer(drained);
        }
    }

    /// <summary>The step's frames are through the datapath: all forwarded means the next step (or done), anything less a failure.</summary>
    private void EndStep()
    {
        uint peer = EstablishedStreams.PeerOf(EstablishedStreams.HandshakePort(_step));
        long forwarded = _counters[peer - 1].TxPackets - _forwardedBefore;
        if (forwarded != _streams.Connections)
        {
            _phase = Phase.Failed;
            Timers.Cancel(nameof(Tick));
            _establishWaiter?.Tell(new PortFailed(
                $"warm-up step {_step + 1} of {_streams.HandshakeSteps}: {forwarded} of {_streams.Connections} frames from port {EstablishedStreams.HandshakePort(_step)} were forwarded to port {peer}"));
            _establishWaiter = null;
            return;
        }

        if (_step + 1 < _streams.HandshakeSteps)
        {
            BeginStep(_step + 1);
            ScheduleRound();
            return;
        }

        _phase = Phase.Established;
        Timers.Cancel(nameof(Tick));
        _establishWaiter?.Tell(new StreamsEstablished(Statistics()));
        _establishWaiter = null;
    }

    private void BeginStep(int step)
    {
        _step = step;
        _next = 0;
        uint peer = EstablishedStreams.PeerOf(EstablishedStreams.HandshakePort(step));
        _forwardedBefore = _counters[peer - 1].TxPackets;
    }

    /// <summary>The receive queue of each connection direction, found once (RSS on the frame) so that no frame is parsed twice.</summary>
    private ushort[][] ClassifyConnections()
    {
        var result = new ushort[Ports][];
        Span<byte> frame = stackalloc byte[Packet.DefaultCapacity];
        for (int portIndex = 0; portIndex < Ports; portIndex++)
        {
            uint port = (uint)(portIndex + 1);
            var queues = result[portIndex] = new ushort[_streams.Connections];
            for (int c = 0; c < queues.Length; c++)
            {
                int length = _streams.PeekData(port, c, frame);
                queues[c] = (ushort)_queues.QueueOf(frame[..length], port);
            }
        }

        return result;
    }

    private void ScheduleRound()
    {
        if (!_roundScheduled && _phase is Phase.Handshake or Phase.Streaming)
        {
            _roundScheduled = true;
            Self.Tell(Round.Instance);
        }
    }

    private PortActorStatistics Statistics() =>
        new([_counters[0].Snapshot(), _counters[1].Snapshot()], null, null);

    private long NowMs() => Context.System.Scheduler.Now.ToUnixTimeMilliseconds();

    private sealed class Round : INoSerializationVerificationNeeded
    {
        public static Round Instance { get; } = new();
    }

    private sealed class Tick : INoSerializationVerificationNeeded
    {
        public static Tick Instance { get; } = new();
    }
}
