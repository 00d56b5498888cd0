using Actors.PacketPath;
using Actors.Ports.Linux;
using Akka.Actor;
using Akka.Event;
using Datapath.Packets;

namespace Actors.Ports;

/// <summary>
/// The `system` port type (Open vSwitch's netdev-linux "system" ports): one Linux interface, whole
/// Ethernet frames through AF_PACKET sockets, the interface in promiscuous mode, the port's own
/// transmissions not received again. Receiving runs on one thread per queue
/// (<see cref="SystemPortReceiver"/>: queue q's frames go to PMD q mod the PMD count, in windowed
/// batches, drops counted); transmitting is this actor's: each frame the PMDs send is written to the
/// interface without waiting (a full socket buffer or a down interface is a counted tx error; a
/// frame over the MTU is dropped and counted), and its packet goes back to the transmit pool.
///
/// The port receives once told <see cref="StartTraffic"/> (the bridge does so after the PMDs have
/// the port), until <see cref="StopTraffic"/>; <see cref="DrainAndReport"/> stops receiving, waits
/// until the PMDs finished what it sent and answers <see cref="PortDrained"/>. Stopping the actor
/// ends its threads and closes its sockets.
/// </summary>
public sealed class SystemPortActor : ReceiveActor
{
    /// <summary>The port type's name, as ovs-vsctl's `type=system`.</summary>
    public const string TypeName = "system";

    private readonly SystemPortSettings _settings;
    private readonly SystemPortSockets _sockets;
    private readonly IReadOnlyList<IActorRef> _pmds;
    private readonly ConcurrentBatchPool _batches;
    private readonly SharedReceiveWindow _window;
    private readonly PmdQuiescer _drain;
    private readonly DrainWaiters _drainWaiters = new();
    private readonly List<SystemPortReceiver> _receivers = [];
    private long _txPackets;
    private long _txBytes;
    private long _txDroppedTooLong;
    private long _txErrors;
    private long _pauseGeneration;
    private int _pausedReceivers;
    private bool _draining;

    private SystemPortActor(SystemPortSettings settings, SystemPortSockets sockets, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches)
    {
        _settings = settings;
        _sockets = sockets;
        _pmds = pmds;
        _batches = batches;
        _window = new SharedReceiveWindow(pmds.Count, settings.Window);
        _drain = new PmdQuiescer(pmds, Self);

        Receive<StartTraffic>(_ => HandleStart());
        Receive<StopTraffic>(_ => Pause());
        Receive<DrainAndReport>(_ => HandleDrain());
        Receive<GetPortStatistics>(_ => Sender.Tell(new PortActorStatistics([Statistics()], null, null)));
        Receive<BatchTaken>(m => _window.Taken(m.Pmd));
        Receive<TransmitBatch>(HandleTransmit);
        Receive<ReceiverPaused>(HandlePaused);
        Receive<Quiesced>(HandleQuiesced);
    }

    /// <summary>
    /// Opens the interface's sockets (so a missing interface or privilege is reported here, to the
    /// caller) and starts the port actor with them; its one <see cref="PortLink"/> is for the bridge.
    /// </summary>
    /// <exception cref="SystemPortException">"no such interface: NAME", a missing CAP_NET_RAW, or another refusal of the kernel.</exception>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public static PortHandle Start(IActorRefFactory factory, SystemPortSettings settings, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(pmds);
        ArgumentOutOfRangeException.ThrowIfZero(pmds.Count, nameof(pmds));
        settings.Validate();
        var sockets = SystemPortSockets.Open(settings.Interface, settings.Queues, settings.SocketBufferBytes);
        IActorRef actor;
        try
        {
            actor = factory.ActorOf(Akka.Actor.Props.CreateBy(new Producer(settings, sockets, pmds, batches)), name);
        }
        catch
        {
            sockets.DisposeAll();
            throw;
        }

        int capacity = Math.Max(Packet.DefaultCapacity, sockets.Interface.MaxFrame + Packet.DefaultHeadroom);
        var link = new PortLink(settings.Port, actor, new ConcurrentPacketPool(settings.TransmitPoolSize, capacity), settings.Name ?? settings.Interface, TypeName);
        return new PortHandle(actor, [link]);
    }

    protected override void PreStart()
    {
        if (_sockets.Receive.Count < _settings.Queues)
        {
            Context.GetLogger().Warning(
                "{0}: this kernel cannot spread frames over {1} queues without looping the port's own frames back (PACKET_FANOUT_FLAG_IGNORE_OUTGOING, Linux 6.6); using one queue.",
                _settings.Interface,
                _settings.Queues);
        }

        var scheduler = Context.System.Scheduler;
        int capacity = Math.Max(Packet.DefaultCapacity, _sockets.Interface.MaxFrame + Packet.DefaultHeadroom);
        for (int q = 0; q < _sockets.Receive.Count; q++)
        {
            var receiver = new SystemPortReceiver(
                _sockets.Receive[q],
                _settings.Port,
                q,
                _pmds,
                _window,
                _batches,
                new ConcurrentPacketPool(_settings.ReceivePoolSize, capacity),
                Self,
                () => scheduler.Now.ToUnixTimeMilliseconds(),
                _settings.PollInterval);
            _receivers.Add(receiver);
            receiver.Start();
        }
    }

    protected override void PostStop()
    {
        bool stopped = true;
        foreach (var receiver in _receivers)
        {
            stopped &= receiver.Stop();
        }

        if (stopped)
        {
            _window.Dispose();
        }

        _sockets.Dispose();
    }

    private void HandleStart()
    {
        if (_draining)
        {
            return;
        }

        foreach (var receiver in _receivers)
        {
            receiver.Resume();
        }
    }

    private void Pause()
    {
        _pauseGeneration++;
        _pausedReceivers = 0;
        foreach (var receiver in _receivers)
        {
            receiver.Pause(_pauseGeneration);
        }
    }

    /// <summary>A live interface is an endless source: it stops at once, then the PMDs are quiesced.</summary>
    private void HandleDrain()
    {
        _drainWaiters.Add(Sender);
        if (!_draining)
        {
            _draining = true;
            Pause();
        }
    }

    private void HandlePaused(ReceiverPaused message)
    {
        if (message.Generation != _pauseGeneration || !_draining)
        {
            return;
        }

        if (++_pausedReceivers == _receivers.Count)
        {
            _drain.Start();
        }
    }

    private void HandleQuiesced(Quiesced message)
    {
        if (!_drain.Answered(message))
        {
            return;
        }

        _draining = false;
        var drained = new PortDrained(new PortActorStatistics([Statistics()], null, null));
        _drainWaiters.Answer(drained);
    }

    private void HandleTransmit(TransmitBatch message)
    {
        foreach (var packet in message.Batch.Packets)
        {
            var frame = packet.Data;
            if (!_sockets.Interface.Fits(frame))
            {
                _txDroppedTooLong++;
            }
            else if (_sockets.Transmit.Send(frame))
            {
                _txPackets++;
                _txBytes += frame.Length;
            }
            else
            {
                _txErrors++;
            }

            packet.Pool?.Return(packet);
        }

        _batches.Return(message.Batch);
    }

    private PortStatistics Statistics()
    {
        long rxPackets = 0, rxBytes = 0, overload = 0, poolEmpty = 0, tooLong = 0, errors = 0;
        foreach (var receiver in _receivers)
        {
            rxPackets += receiver.RxPackets;
            rxBytes += receiver.RxBytes;
            overload += receiver.DroppedOverload;
            poolEmpty += receiver.DroppedPoolEmpty;
            tooLong += receiver.DroppedTooLong;
            errors += receiver.Errors;
        }

        return new PortStatistics(_settings.Port, rxPackets, rxBytes, _txPackets, _txBytes, overload, poolEmpty, tooLong, errors, _txDroppedTooLong, _txErrors);
    }

    /// <summary>Makes the actor with its opened sockets (internal types, which Props' reflective constructor lookup cannot pass).</summary>
    private sealed class Producer(SystemPortSettings settings, SystemPortSockets sockets, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches) : IIndirectActorProducer
    {
        public Type ActorType => typeof(SystemPortActor);

        public ActorBase Produce() => new SystemPortActor(settings, sockets, pmds, batches);

        public void Release(ActorBase actor)
        {
        }
    }
}
