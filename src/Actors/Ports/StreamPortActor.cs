using Actors.PacketPath;
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
/// <see cref="EstablishStreams"/> runs the handshake one step at a time (<see cref="StreamHandshake"/>):
/// every connection's frame of the step, then a quiesce of the PMDs (<see cref="PmdQuiescer"/>),
/// then a check that the datapath forwarded all of them to the other port (a drop there means a
/// connection is not established, and the answer is <see cref="PortFailed"/>). Then
/// <see cref="StartTraffic"/> sends data frames in both directions at full speed, each port cycling
/// through the connections, until <see cref="StopTraffic"/> or <see cref="DrainAndReport"/>. Frames
/// the PMDs transmit are counted and returned to their pools; nobody answers them.
/// </summary>
public sealed class StreamPortActor : PortActor, IWithTimers
{
    /// <summary>The port type's name (ovs-ofctl show).</summary>
    public const string TypeName = "stream";

    private const int Ports = 2;

    // Long enough for a 64-byte frame plus headroom for pushed headers.
    private const int PacketCapacity = Packet.DefaultHeadroom + 192;

    private static readonly uint[] PortNumbers = [EstablishedStreams.ClientPort, EstablishedStreams.ServerPort];

    private readonly StreamPortSettings _settings;
    private readonly EstablishedStreams _streams;
    private readonly StreamHandshake _handshake;
    private readonly ReceiveQueues _queues;
    private readonly int[] _cursor = new int[Ports];

    // Data frames each port has sent (TCP: one side never runs more than a window ahead of the other).
    private readonly long[] _dataSent = new long[Ports];

    // One round's packets, rented from the pool in one operation.
    private readonly Packet[] _rented = new Packet[PacketBatch.MaxSize];

    // The connections whose frames each port sends, when the actor feeds one PMD only (null: all of them, by index).
    private readonly int[]?[] _members = new int[]?[Ports];
    private readonly PmdQuiescer _stepQuiescer;
    private readonly ushort[][]? _queueOf;
    private IActorRef? _establishWaiter;
    private Phase _phase = Phase.Idle;
    private int _firstPort;

    public StreamPortActor(StreamPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, PortPools pools)
        : base(PortNumbers, pmds, batches, pools, finite: false)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        _settings = settings;
        _streams = new EstablishedStreams(settings.Protocol, settings.Connections, settings.SnatAddress);
        _queues = new ReceiveQueues(Ports, settings.QueuesPerPort, settings.Window, pmds, batches, Self);
        if (settings.OnlyPmd is int only && only >= pmds.Count)
        {
            throw new ArgumentException($"StreamPortSettings.OnlyPmd {only} names no PMD (there are {pmds.Count}).", nameof(settings));
        }

        _queueOf = _queues.QueuesPerPort > 1 ? ClassifyConnections() : null;
        if (settings.OnlyPmd is int pmd)
        {
            for (int portIndex = 0; portIndex < Ports; portIndex++)
            {
                _members[portIndex] = MembersOf(portIndex, pmd);
            }
        }

        _handshake = new StreamHandshake(port => ConnectionsFrom(IndexOf(port)), _streams.HandshakeSteps, port => CountersAt(IndexOf(port)).TxPackets);
        _stepQuiescer = new PmdQuiescer(pmds, Self);

        Receive<EstablishStreams>(_ => HandleEstablish());
        Receive<Tick>(_ => Wake());
    }

    /// <summary>The warm-up's progress; streaming is the lifecycle's running phase once established.</summary>
    private enum Phase
    {
        Idle,
        Handshake,
        Established,
        Failed,
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Starts the actor and makes the links (ports 1 and 2, each with its own transmit pool) for <c>DatapathNode.UsePortsAsync</c>.</summary>
    /// <param name="dispatcher">The dispatcher to run on (a PMD's thread); null: the default.</param>
    public static PortHandle Start(IActorRefFactory factory, StreamPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, string? name = null, string? dispatcher = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var pools = PortPools.PerPort(Ports, settings.ReceivePoolSize, settings.TransmitPoolSize, PacketCapacity);
        var props = Akka.Actor.Props.Create(() => new StreamPortActor(settings, pmds, batches, pools));
        return StartActor(factory, dispatcher is null ? props : props.WithDispatcher(dispatcher), name, PortNumbers, pools, TypeName);
    }

    /// <summary>
    /// Ports 1 and 2 split by PMD, as PMD threads poll their own receive queues: one actor per PMD
    /// (named "<paramref name="name"/>-i"), on that PMD's dispatcher, sending only the connections
    /// its queues receive, and the links that lead each PMD's output back to its own actor. With
    /// symmetric RSS both directions of a connection meet on one PMD, which hosts its conntrack
    /// shard: a packet then never leaves the thread that received it.
    /// </summary>
    public static SplitPortHandle StartPerPmd(IActorRefFactory factory, StreamPortSettings settings, IReadOnlyList<IActorRef> pmds, IReadOnlyList<string> dispatchers, Func<int, ConcurrentBatchPool> batchesOf, string name)
    {
        ArgumentNullException.ThrowIfNull(pmds);
        ArgumentNullException.ThrowIfNull(dispatchers);
        ArgumentNullException.ThrowIfNull(settings);
        if (dispatchers.Count != pmds.Count)
        {
            throw new ArgumentException($"{dispatchers.Count} dispatchers for {pmds.Count} PMDs.", nameof(dispatchers));
        }

        var parts = new PortHandle[pmds.Count];
        for (int pmd = 0; pmd < parts.Length; pmd++)
        {
            parts[pmd] = Start(factory, settings with { OnlyPmd = pmd }, pmds, batchesOf(pmd), $"{name}-{pmd}", dispatchers[pmd]);
        }

        return SplitPortHandle.Join(parts);
    }

    /// <summary>Data frames flow only once every connection is established.</summary>
    private protected override bool OnStart()
    {
        if (_phase != Phase.Established)
        {
            return false;
        }

        Timers.StartPeriodicTimer(nameof(Tick), Tick.Instance, _settings.IdlePollInterval);
        Wake();
        return true;
    }

    private protected override void OnStopped()
    {
        if (_phase != Phase.Handshake)
        {
            Timers.Cancel(nameof(Tick));
        }
    }

    private protected override void OnBatchTaken(int pmd)
    {
        _queues.Taken(pmd);
        Wake();
    }

    private protected override void EndTransmit() => Wake();

    private protected override void OnQuiesced(Quiesced message)
    {
        if (_stepQuiescer.Answered(message))
        {
            EndStep();
        }
    }

    private protected override void OnWake()
    {
        bool progressed = _phase == Phase.Handshake ? HandshakeRound() : Lifecycle.Running && StreamingRound();
        if (progressed)
        {
            Wake();
        }
    }

    private void HandleEstablish()
    {
        if (_phase != Phase.Idle)
        {
            Sender.Tell(new PortFailed($"streams cannot be established twice (now {_phase})"));
            return;
        }

        _establishWaiter = Sender;
        if (ConnectionsFrom(0) == 0 && ConnectionsFrom(1) == 0)
        {
            // A PMD none of whose queues receives any connection: nothing to establish.
            _phase = Phase.Established;
            Sender.Tell(new StreamsEstablished(Statistics()));
            _establishWaiter = null;
            return;
        }

        _phase = Phase.Handshake;
        _handshake.Begin();
        Timers.StartPeriodicTimer(nameof(Tick), Tick.Instance, _settings.IdlePollInterval);
        Wake();
    }

    /// <summary>One batch of the current step's frames; once every connection has its frame, waits for the PMDs to finish them.</summary>
    private bool HandshakeRound()
    {
        if (_handshake.StepSent || _stepQuiescer.Active)
        {
            return false;
        }

        int portIndex = IndexOf(_handshake.Port);
        if (!CanFill(portIndex))
        {
            return false;
        }

        long nowMs = NowMs();
        var pool = Pools.Receive[portIndex];
        for (int i = 0; i < PacketBatch.MaxSize && !_handshake.StepSent && pool.TryRent(out var packet); i++)
        {
            int connection = Member(portIndex, _handshake.TakeNext());
            _streams.WriteHandshake(_handshake.Step, connection, packet);
            Offer(portIndex, connection, packet, nowMs);
        }

        _queues.Flush(nowMs);
        if (_handshake.StepSent)
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
        uint port = PortAt(portIndex);
        var pool = Pools.Receive[portIndex];
        ref int cursor = ref _cursor[portIndex];
        int count = ConnectionsFrom(portIndex);
        int rented = pool.RentMany(_rented);
        for (int i = 0; i < rented; i++)
        {
            var packet = _rented[i];
            int connection = Member(portIndex, cursor);
            _streams.WriteData(port, connection, packet);
            Offer(portIndex, connection, packet, nowMs);
            _dataSent[portIndex]++;
            if (++cursor == count)
            {
                cursor = 0;
            }
        }
    }

    private bool CanFill(int portIndex) =>
        ConnectionsFrom(portIndex) > 0 && _queues.CanAcceptOneBatchPerQueue() && Pools.Receive[portIndex].Available >= PacketBatch.MaxSize && WithinWindow(portIndex);

    /// <summary>
    /// TCP: a port whose host is ahead of the other by a window's worth of data per connection waits
    /// for it (a loaded machine once let one side's rounds starve the other's until conntrack saw
    /// segments beyond the window and marked them invalid). Ports with no frames of their own to
    /// send (a PMD's share with one-sided connections) do not hold the other back.
    /// </summary>
    private bool WithinWindow(int portIndex)
    {
        int other = 1 - portIndex;
        if (ConnectionsFrom(other) == 0)
        {
            return true;
        }

        long lead = _dataSent[portIndex] - _dataSent[other];
        return lead < (long)_streams.MaxDataFramesAhead * Math.Max(1, Math.Min(ConnectionsFrom(portIndex), ConnectionsFrom(other)));
    }

    /// <summary>How many connections' frames the port at <paramref name="portIndex"/> sends.</summary>
    private int ConnectionsFrom(int portIndex) => _members[portIndex]?.Length ?? _streams.Connections;

    /// <summary>The connection that is the port's <paramref name="index"/>-th.</summary>
    private int Member(int portIndex, int index) => _members[portIndex] is { } members ? members[index] : index;

    /// <summary>The connections whose frames from the port at <paramref name="portIndex"/> reach a queue of <paramref name="pmd"/>.</summary>
    private int[] MembersOf(int portIndex, int pmd)
    {
        var members = new List<int>();
        for (int c = 0; c < _streams.Connections; c++)
        {
            int queue = _queueOf is { } queues ? queues[portIndex][c] : 0;
            if (_queues.PmdOfQueue(queue) == pmd)
            {
                members.Add(c);
            }
        }

        return [.. members];
    }

    /// <summary>A refusal is not expected in a closed loop (a round fills only with room for it); counted, never hidden.</summary>
    private void Offer(int portIndex, int connection, Packet packet, long nowMs)
    {
        int queue = _queueOf is { } queues ? queues[portIndex][connection] : 0;
        _queues.OfferOrDrop(portIndex, queue, packet, nowMs, CountersAt(portIndex));
    }

    /// <summary>The step's frames are through the datapath: all forwarded means the next step (or done), anything less a failure.</summary>
    private void EndStep()
    {
        switch (_handshake.FinishStep(out string? failure))
        {
            case HandshakeStep.Next:
                Wake();
                return;
            case HandshakeStep.Established:
                _phase = Phase.Established;
                Timers.Cancel(nameof(Tick));
                _establishWaiter?.Tell(new StreamsEstablished(Statistics()));
                break;
            default:
                _phase = Phase.Failed;
                Timers.Cancel(nameof(Tick));
                _establishWaiter?.Tell(new PortFailed(failure!));
                break;
        }

        _establishWaiter = null;
    }

    /// <summary>The receive queue of each connection direction, found once (RSS on the frame) so that no frame is parsed twice.</summary>
    private ushort[][] ClassifyConnections()
    {
        var result = new ushort[Ports][];
        Span<byte> frame = stackalloc byte[Packet.DefaultCapacity];
        for (int portIndex = 0; portIndex < Ports; portIndex++)
        {
            uint port = PortAt(portIndex);
            var queues = result[portIndex] = new ushort[_streams.Connections];
            for (int c = 0; c < queues.Length; c++)
            {
                int length = _streams.PeekData(port, c, frame);
                queues[c] = (ushort)_queues.QueueOf(frame[..length], port);
            }
        }

        return result;
    }

    private long NowMs() => Context.System.Scheduler.Now.ToUnixTimeMilliseconds();

    private sealed class Tick : INoSerializationVerificationNeeded
    {
        public static Tick Instance { get; } = new();
    }
}
