using Actors.Pmd;
using Akka.Actor;
using Datapath.Packets;
using Traffic;

namespace Actors.Ports;

/// <summary>
/// The `generator` port type: ports 1 and 2 with a <see cref="TrafficGenerator"/>'s two hosts behind
/// them (client side on 1, server side on 2). Frames the hosts send enter their port's receive
/// queues (RSS, see <see cref="ReceiveQueues"/>: queue q is served by PMD q mod the PMD count) and go
/// to the PMDs in batches of up to 32 with this actor as AckTo; frames the PMDs transmit on a port
/// are delivered to the host behind it, which answers only what reached it.
///
/// Pacing. Unpaced (RatePps 0), a closed loop: a port fills a batch only when every PMD has room in
/// its window for one batch per queue it serves and the receive pool has a batch's worth of
/// packets, then sends itself the next round (never a blocking loop); acks, transmissions and an
/// idle poll start rounds again. Paced, an open loop: a timer gives the hosts their due frames, and
/// a frame whose PMD has its window full, or that finds the receive pool empty, is dropped at the
/// receive side and counted (rx dropped: overload, pool empty), as a NIC drops what it cannot queue.
///
/// The datapath clock of <see cref="ProcessBatch"/> is the scheduler's time in Unix milliseconds
/// (virtual under the TestKit's scheduler); the generator's clock is the same time since the start.
/// </summary>
public sealed class GeneratorPortActor : ReceiveActor, IWithTimers
{
    private const int Ports = 2;

    // Paced: batches per port a tick may fill at most, so a long pause does not become one giant round.
    private const int MaxFillsPerTick = 1024;

    private readonly GeneratorPortSettings _settings;
    private readonly TrafficGenerator _generator;
    private readonly ReceiveQueues _queues;
    private readonly DroppingReceivePool[] _receivePools = new DroppingReceivePool[Ports];
    private readonly PortCounters[] _counters = [new(TrafficGenerator.ClientPort), new(TrafficGenerator.ServerPort)];
    private readonly ConcurrentBatchPool _batches;
    private readonly PacketBatch _scratch = new();
    private readonly PmdQuiescer _quiescer;
    private readonly DrainWaiters _drainWaiters = new();
    private readonly DateTimeOffset _epoch;
    private long _lastNs;
    private long _framesGenerated;
    private bool _running;
    private bool _roundScheduled;
    private int _firstPort;

    public GeneratorPortActor(GeneratorPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        _settings = settings;
        _batches = batches;
        _generator = new TrafficGenerator(settings.Profile, settings.Seed);
        _queues = new ReceiveQueues(Ports, settings.QueuesPerPort, settings.Window, pmds, batches, Self);
        _quiescer = new PmdQuiescer(pmds, Self);
        for (int i = 0; i < Ports; i++)
        {
            _receivePools[i] = new DroppingReceivePool(new ConcurrentPacketPool(settings.ReceivePoolSize, settings.PacketCapacity), settings.PacketCapacity);
        }

        _epoch = Context.System.Scheduler.Now;

        Receive<StartTraffic>(_ => HandleStart());
        Receive<StopTraffic>(_ => Stop());
        Receive<DrainAndReport>(_ => HandleDrain());
        Receive<GetPortStatistics>(_ => Sender.Tell(Statistics()));
        Receive<BatchTaken>(HandleTaken);
        Receive<TransmitBatch>(HandleTransmit);
        Receive<Quiesced>(HandleQuiesced);
        Receive<Round>(_ => HandleRound());
        Receive<Tick>(_ => HandleTick());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private bool Paced => _settings.Profile.RatePps > 0;

    private bool LimitReached => _settings.MaxFrames > 0 && _framesGenerated >= _settings.MaxFrames;

    /// <summary>The actor alone; its <see cref="PortLink"/>s (one transmit pool per port) are made by <see cref="Start"/>.</summary>
    public static Props Props(GeneratorPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches) =>
        Akka.Actor.Props.Create(() => new GeneratorPortActor(settings, pmds, batches));

    /// <summary>Starts the actor and makes the links (ports 1 and 2, each with its own transmit pool) for <c>DatapathNode.UsePorts</c>.</summary>
    public static PortHandle Start(IActorRefFactory factory, GeneratorPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var actor = factory.ActorOf(Props(settings, pmds, batches), name);
        var links = new PortLink[Ports];
        for (int i = 0; i < Ports; i++)
        {
            links[i] = new PortLink((uint)(i + 1), actor, new ConcurrentPacketPool(settings.TransmitPoolSize, settings.PacketCapacity), Type: "generator");
        }

        return new PortHandle(actor, links);
    }

    private void HandleStart()
    {
        if (LimitReached)
        {
            return;
        }

        _running = true;
        Timers.StartPeriodicTimer(nameof(Tick), Tick.Instance, Paced ? _settings.PacingInterval : _settings.IdlePollInterval);
        if (Paced)
        {
            // The rate counts from now, not from the first tick.
            RunPacedRound();
        }

        ScheduleRound();
    }

    private void Stop()
    {
        _running = false;
        Timers.Cancel(nameof(Tick));
    }

    private void HandleDrain()
    {
        _drainWaiters.Add(Sender);

        // A frame limit makes the traffic finite: it runs to the limit first.
        if (!_running || _settings.MaxFrames == 0)
        {
            Stop();
            StartDrain();
        }
    }

    private void HandleTaken(BatchTaken message)
    {
        _queues.Taken(message.Pmd);
        ScheduleRound();
    }

    private void HandleTick()
    {
        if (!_running)
        {
            return;
        }

        if (Paced)
        {
            RunPacedRound();
        }
        else
        {
            // Connections waiting for answers that will never come time out even when no round runs.
            _generator.Expire(NowNs());
            ScheduleRound();
        }
    }

    private void HandleRound()
    {
        _roundScheduled = false;
        if (!_running || Paced)
        {
            return;
        }

        long nowNs = NowNs();
        long nowMs = NowMs();
        bool progressed = false;
        for (int i = 0; i < Ports; i++)
        {
            int port = (_firstPort + i) % Ports;
            if (_queues.CanAcceptOneBatchPerQueue() && _receivePools[port].Pool.Available >= PacketBatch.MaxSize)
            {
                progressed |= FillAndOffer(port, nowNs, nowMs) > 0;
            }
        }

        _firstPort = (_firstPort + 1) % Ports;
        _queues.Flush(nowMs);
        CheckLimit();
        if (progressed)
        {
            ScheduleRound();
        }
    }

    private void RunPacedRound()
    {
        long nowNs = NowNs();
        long nowMs = NowMs();
        for (int port = 0; port < Ports; port++)
        {
            for (int i = 0; i < MaxFillsPerTick && FillAndOffer(port, nowNs, nowMs) == PacketBatch.MaxSize; i++)
            {
            }
        }

        _queues.Flush(nowMs);
        CheckLimit();
    }

    /// <summary>One batch of the host behind a port, spread over the port's queues; what cannot be queued is dropped and counted.</summary>
    private int FillAndOffer(int portIndex, long nowNs, long nowMs)
    {
        uint port = (uint)(portIndex + 1);
        var pool = _receivePools[portIndex];
        var counters = _counters[portIndex];
        int added = _generator.Fill(port, _scratch, pool, nowNs);
        foreach (var packet in _scratch.Packets)
        {
            if (ReferenceEquals(packet, pool.Spare))
            {
                counters.DroppedPoolEmpty();
                continue;
            }

            int length = packet.Length;
            int queue = _queues.QueueOf(packet.Data, port);
            if (_queues.Offer(portIndex, queue, packet, nowMs, out _) == QueueOffer.Accepted)
            {
                counters.Received(length);
            }
            else
            {
                counters.DroppedOverload();
                pool.Return(packet);
            }
        }

        _scratch.Clear();
        _framesGenerated += added;
        return added;
    }

    private void HandleTransmit(TransmitBatch message)
    {
        long nowNs = NowNs();
        bool known = message.Port - 1 < Ports;
        foreach (var packet in message.Batch.Packets)
        {
            if (known)
            {
                _counters[message.Port - 1].Transmitted(packet.Length);
                _generator.OnTransmitted(message.Port, packet, nowNs);
            }

            packet.Pool?.Return(packet);
        }

        _batches.Return(message.Batch);
        ScheduleRound();
    }

    private void HandleQuiesced(Quiesced message)
    {
        if (_quiescer.Answered(message))
        {
            var drained = new PortDrained(Statistics());
            _drainWaiters.Answer(drained);
        }
    }

    private void CheckLimit()
    {
        if (_running && LimitReached)
        {
            Stop();
            if (_drainWaiters.Count > 0)
            {
                StartDrain();
            }
        }
    }

    /// <summary>Everything was sent at the end of its round; what is left to wait for is inside the PMDs.</summary>
    private void StartDrain()
    {
        if (!_quiescer.Active)
        {
            _quiescer.Start();
        }
    }

    private void ScheduleRound()
    {
        if (_running && !_roundScheduled && !Paced)
        {
            _roundScheduled = true;
            Self.Tell(Round.Instance);
        }
    }

    private PortActorStatistics Statistics() =>
        new([_counters[0].Snapshot(), _counters[1].Snapshot()], TrafficSummary.From(_generator.Stats), null);

    /// <summary>The generator's clock: the scheduler's time since the start, never going back.</summary>
    private long NowNs()
    {
        long ns = (Context.System.Scheduler.Now - _epoch).Ticks * 100;
        _lastNs = Math.Max(_lastNs, ns);
        return _lastNs;
    }

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
