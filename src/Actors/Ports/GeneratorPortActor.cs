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
/// The datapath clock of a received <c>PathBatch</c> is the scheduler's time in Unix milliseconds
/// (virtual under the TestKit's scheduler); the generator's clock is the same time since the start.
/// With a frame limit the traffic is finite: a drain lets it run to the limit.
///
/// Split by PMD (<see cref="StartPerPmd"/>), one actor per PMD sends only the connections its PMD's
/// queues receive (<see cref="ConnectionShare"/>), as a PMD thread polls its own queues: with the
/// PMD's dedicated thread, a frame is then written, switched and answered on one core.
/// </summary>
public sealed class GeneratorPortActor : PortActor, IWithTimers
{
    /// <summary>The port type's name (ovs-ofctl show).</summary>
    public const string TypeName = "generator";

    private const int Ports = 2;

    // Paced: batches per port a tick may fill at most, so a long pause does not become one giant round.
    private const int MaxFillsPerTick = 1024;

    private static readonly uint[] PortNumbers = [TrafficGenerator.ClientPort, TrafficGenerator.ServerPort];

    private readonly GeneratorPortSettings _settings;
    private readonly TrafficGenerator _generator;
    private readonly ReceiveQueues _queues;
    private readonly DroppingReceivePool[] _receivePools = new DroppingReceivePool[Ports];
    private readonly PacketBatch _scratch = new();
    private readonly DateTimeOffset _epoch;
    private long _lastNs;
    private long _transmitNowNs;
    private long _framesGenerated;
    private int _firstPort;

    /// <param name="share">The connections of this actor's part when the ports are split by PMD; null: all of them.</param>
    public GeneratorPortActor(GeneratorPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, PortPools pools, ConnectionShare? share = null)
        : base(PortNumbers, pmds, batches, pools, finite: settings?.MaxFrames > 0)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        _settings = settings;
        _generator = new TrafficGenerator(settings.Profile, settings.Seed, share);
        _queues = new ReceiveQueues(Ports, settings.QueuesPerPort, settings.Window, pmds, batches, Self);
        for (int i = 0; i < Ports; i++)
        {
            _receivePools[i] = new DroppingReceivePool(pools.Receive[i], settings.PacketCapacity);
        }

        _epoch = Context.System.Scheduler.Now;
        Receive<Tick>(_ => HandleTick());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private bool Paced => _settings.Profile.RatePps > 0;

    private bool LimitReached => _settings.MaxFrames > 0 && _framesGenerated >= _settings.MaxFrames;

    /// <summary>Starts the actor and makes the links (ports 1 and 2, each with its own transmit pool) for <c>DatapathNode.UsePorts</c>.</summary>
    public static PortHandle Start(IActorRefFactory factory, GeneratorPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, string? name = null) =>
        Start(factory, settings, pmds, batches, name, dispatcher: null, share: null);

    /// <param name="dispatcher">The dispatcher to run on (a PMD's thread); null: the default.</param>
    /// <param name="share">The connections of this part of a split port; null: all of them.</param>
    private static PortHandle Start(IActorRefFactory factory, GeneratorPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, string? name, string? dispatcher, ConnectionShare? share)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var pools = PortPools.PerPort(Ports, settings.ReceivePoolSize, settings.TransmitPoolSize, settings.PacketCapacity);
        var props = Akka.Actor.Props.Create(() => new GeneratorPortActor(settings, pmds, batches, pools, share));
        return StartActor(factory, dispatcher is null ? props : props.WithDispatcher(dispatcher), name, PortNumbers, pools, TypeName);
    }

    /// <summary>
    /// Ports 1 and 2 split by PMD: one actor per PMD (named "<paramref name="name"/>-i"), on that PMD's
    /// dispatcher when it has its own thread (<paramref name="dispatchers"/>; null: the default
    /// dispatcher), each with the connections its PMD's queues receive, its share of the rate and of
    /// the frame limit, its own pools, and the links that lead that PMD's output back to it. With
    /// symmetric RSS both directions of a connection meet on one PMD, which hosts its conntrack shard.
    /// </summary>
    public static SplitPortHandle StartPerPmd(IActorRefFactory factory, GeneratorPortSettings settings, IReadOnlyList<IActorRef> pmds, IReadOnlyList<string>? dispatchers, Func<int, ConcurrentBatchPool> batchesOf, string name)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(pmds);
        ArgumentNullException.ThrowIfNull(batchesOf);
        settings.Validate();
        if (dispatchers is not null && dispatchers.Count != pmds.Count)
        {
            throw new ArgumentException($"{dispatchers.Count} dispatchers for {pmds.Count} PMDs.", nameof(dispatchers));
        }

        var shares = ConnectionShare.Split(settings.Profile, pmds.Count, ReceiveQueues.PmdPlacement(settings.QueuesPerPort, pmds.Count));
        var parts = new PortHandle[pmds.Count];
        for (int pmd = 0; pmd < parts.Length; pmd++)
        {
            var part = settings with { MaxFrames = PartFrameLimit(settings.MaxFrames, shares[pmd]) };
            parts[pmd] = Start(factory, part, pmds, batchesOf(pmd), $"{name}-{pmd}", dispatchers?[pmd], shares[pmd]);
        }

        return SplitPortHandle.Join(parts);
    }

    /// <summary>
    /// A part's share of the frame limit. A limit of 0 means none, so a part with connections whose
    /// share rounds to 0 gets 1; a part without connections gets none: it sends nothing, and a
    /// drain must not wait for a limit it can never reach.
    /// </summary>
    internal static long PartFrameLimit(long maxFrames, ConnectionShare share)
    {
        ArgumentNullException.ThrowIfNull(share);
        return maxFrames > 0 && share.Slots.Count > 0 ? Math.Max(1, share.ShareOf(maxFrames)) : 0;
    }

    private protected override bool OnStart()
    {
        if (LimitReached)
        {
            return false;
        }

        Timers.StartPeriodicTimer(nameof(Tick), Tick.Instance, Paced ? _settings.PacingInterval : _settings.IdlePollInterval);
        if (Paced)
        {
            // The rate counts from now, not from the first tick.
            RunPacedRound();
        }
        else
        {
            Wake();
        }

        return true;
    }

    private protected override void OnStopped() => Timers.Cancel(nameof(Tick));

    private protected override void OnBatchTaken(int pmd)
    {
        _queues.Taken(pmd);
        WakeIfUnpaced();
    }

    private protected override void BeginTransmit() => _transmitNowNs = NowNs();

    /// <summary>The frame reaches the host behind the port, which may answer it.</summary>
    private protected override TransmitOutcome Send(int portIndex, Packet packet)
    {
        _generator.OnTransmitted(PortAt(portIndex), packet, _transmitNowNs);
        return TransmitOutcome.Sent;
    }

    private protected override void EndTransmit() => WakeIfUnpaced();

    private protected override PortActorStatistics Statistics() =>
        new(Snapshots(), TrafficSummary.From(_generator.Stats), null);

    private void HandleTick()
    {
        if (!Lifecycle.Running)
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
            Wake();
        }
    }

    /// <summary>Unpaced: one batch per port that has room, the ports taking turns to go first.</summary>
    private protected override void OnWake()
    {
        if (!Lifecycle.Running || Paced)
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
            Wake();
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
        uint port = PortAt(portIndex);
        var pool = _receivePools[portIndex];
        var counters = CountersAt(portIndex);
        int added = _generator.Fill(port, _scratch, pool, nowNs);
        foreach (var packet in _scratch.Packets)
        {
            if (ReferenceEquals(packet, pool.Spare))
            {
                counters.DroppedPoolEmpty();
                continue;
            }

            _queues.OfferOrDrop(portIndex, _queues.QueueOf(packet.Data, port), packet, nowMs, counters);
        }

        _scratch.Clear();
        _framesGenerated += added;
        return added;
    }

    private void CheckLimit()
    {
        if (Lifecycle.Running && LimitReached)
        {
            EndTraffic();
        }
    }

    private void WakeIfUnpaced()
    {
        if (Lifecycle.Running && !Paced)
        {
            Wake();
        }
    }

    /// <summary>The generator's clock: the scheduler's time since the start, never going back.</summary>
    private long NowNs()
    {
        long ns = (Context.System.Scheduler.Now - _epoch).Ticks * 100;
        _lastNs = Math.Max(_lastNs, ns);
        return _lastNs;
    }

    private long NowMs() => Context.System.Scheduler.Now.ToUnixTimeMilliseconds();

    private sealed class Tick : INoSerializationVerificationNeeded
    {
        public static Tick Instance { get; } = new();
    }
}
