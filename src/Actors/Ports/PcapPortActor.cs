using Actors.PacketPath;
using Akka.Actor;
using Datapath.Packets;
using Datapath.Packets.Pcap;

namespace Actors.Ports;

/// <summary>
/// The `pcap` port type: reads a capture and receives its frames, on one port or on ports 1 and 2 by
/// source MAC, spread over each port's receive queues by RSS and sent to the queues' PMDs in batches
/// of up to 32 (see <see cref="ReceiveQueues"/>); writes what the PMDs transmit on each port to that
/// port's tx file. Optionally loops over the capture (<see cref="PcapInput"/> reads it).
///
/// Never drops: unlike a generator, a capture cannot send a frame again, so when the PMD of a frame's
/// queue has its window of batches full, or the receive pool is empty, the port waits (for the PMD's
/// ack, or a short timer) and goes on with that frame. <see cref="PcapPortSettings.Ordering"/> says
/// whether a frame may overtake one of the other direction (<see cref="CausalOrder"/>). The datapath
/// clock follows the capture's timestamps; tx records carry that clock.
///
/// A capture that cannot be read (missing, not a pcap, a truncated record) or a tx file that cannot
/// be created stops the input; the reason, naming the file, is logged, published on the event
/// stream and answered as <see cref="PortFailed"/> to <see cref="StartTraffic"/> and <see cref="DrainAndReport"/>.
/// </summary>
public sealed class PcapPortActor : PortActor, IWithTimers
{
    /// <summary>The port type's name (ovs-ofctl show).</summary>
    public const string TypeName = "pcap";

    // Frames one pump handles at most, so acks, transmissions and queries interleave.
    private const int FramesPerPump = 1024;

    private readonly PcapPortSettings _settings;
    private readonly PcapInput _input;
    private readonly PcapWriter?[] _writers;
    private readonly ReceiveQueues _queues;
    private readonly CausalOrder _order;
    private readonly PmdQuiescer _barrier;

    public PcapPortActor(PcapPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, PortPools pools)
        : base(settings?.Ports ?? throw new ArgumentNullException(nameof(settings)), pmds, batches, pools, finite: !settings.Loop)
    {
        _settings = settings;
        var ports = settings.Ports;
        _input = new PcapInput(settings, ports);
        _writers = new PcapWriter?[ports.Count];
        _queues = new ReceiveQueues(ports.Count, settings.QueuesPerPort, settings.Window, pmds, batches, Self);
        _order = new CausalOrder(pmds.Count, settings.Ordering == PcapOrdering.Causal);
        _barrier = new PmdQuiescer(pmds, Self);
        Receive<Retry>(_ => Wake());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Starts the actor and makes the links of its ports (each with its own transmit pool) for <c>DatapathNode.UsePorts</c>.</summary>
    public static PortHandle Start(IActorRefFactory factory, PcapPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var ports = settings.Ports;
        var pools = PortPools.PerPort(ports.Count, settings.ReceivePoolSize, settings.TransmitPoolSize);
        var props = Akka.Actor.Props.Create(() => new PcapPortActor(settings, pmds, batches, pools));
        return StartActor(factory, props, name, ports, pools, TypeName);
    }

    protected override void PreStart()
    {
        foreach (var (port, path) in _settings.TxPaths)
        {
            try
            {
                _writers[IndexOf(port)] = PcapWriter.Create(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                FailTraffic($"tx pcap {path}: {e.Message}");
                return;
            }
        }

        if (!_input.Open())
        {
            FailTraffic(_input.Failure!);
        }
    }

    protected override void PostStop()
    {
        _input.Dispose();
        foreach (var writer in _writers)
        {
            writer?.Dispose();
        }
    }

    private protected override bool OnStart()
    {
        Wake();
        return true;
    }

    private protected override void OnBatchTaken(int pmd)
    {
        _queues.Taken(pmd);
        Wake();
    }

    private protected override TransmitOutcome Send(int portIndex, Packet packet)
    {
        _writers[portIndex]?.Write(packet.Data, _input.ClockNs);
        return TransmitOutcome.Sent;
    }

    /// <summary>A causal barrier must finish before the drain's quiesce (it would take the answers).</summary>
    private protected override bool SourceStill => !_barrier.Active;

    private protected override void BeforeQuiesce() => _queues.Flush(_input.ClockMs);

    private protected override void BeforeDrained()
    {
        foreach (var writer in _writers)
        {
            writer?.Flush();
        }
    }

    private protected override void OnQuiesced(Quiesced message)
    {
        if (_barrier.Answered(message))
        {
            _order.Cleared();
            Wake();
            TryDrain();
        }
    }

    private protected override PortActorStatistics Statistics() => new(Snapshots(), null, _input.Progress);

    /// <summary>Sends up to <see cref="FramesPerPump"/> frames; stops early to wait (a barrier, a full window, an empty pool) or at the end.</summary>
    private protected override void OnWake()
    {
        if (!Lifecycle.Running || _barrier.Active)
        {
            return;
        }

        for (int n = 0; n < FramesPerPump; n++)
        {
            if (!TrySendFrame())
            {
                _queues.Flush(_input.ClockMs);
                return;
            }
        }

        _queues.Flush(_input.ClockMs);
        Wake();
    }

    /// <summary>
    /// Sends the frame in hand (reading one first if needed). False when the pump must stop: the
    /// input ended or failed, a causal barrier started, the PMD's window is full (its ack wakes the
    /// pump) or the pool is empty (a timer does).
    /// </summary>
    private bool TrySendFrame()
    {
        switch (_input.TryRead())
        {
            case PcapRead.End:
                EndTraffic();
                return false;
            case PcapRead.Failed:
                FailTraffic(_input.Failure!);
                return false;
        }

        int portIndex = _input.PortIndex;
        uint port = PortAt(portIndex);
        if (_order.MustWait(port))
        {
            _queues.Flush(_input.ClockMs);
            _barrier.Start(_order.PmdsToQuiesce);
            return false;
        }

        int queue = _queues.QueueOf(_input.Frame, port);
        if (!_queues.CanOffer(portIndex, queue))
        {
            return false;
        }

        if (!Pools.Receive[portIndex].TryRent(out var packet))
        {
            Timers.StartSingleTimer(nameof(Retry), Retry.Instance, _settings.RetryInterval);
            return false;
        }

        packet.SetFrame(_input.Frame, port);
        _input.Consume();
        int length = packet.Length;

        // Accepted (CanOffer said so); the packet may be the PMD's already.
        _queues.Offer(portIndex, queue, packet, _input.ClockMs, out int pmd);
        CountersAt(portIndex).Received(length);
        _order.Sent(pmd, port);
        return true;
    }

    private sealed class Retry : INoSerializationVerificationNeeded
    {
        public static Retry Instance { get; } = new();
    }
}
