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
/// frame over the MTU is dropped and counted), and its packet goes back to its pool.
///
/// The port receives once told <see cref="StartTraffic"/> (the bridge does so after the PMDs have
/// the port), until <see cref="StopTraffic"/>; <see cref="DrainAndReport"/> stops receiving, waits
/// until the PMDs finished what it sent and answers <see cref="PortDrained"/>. Stopping the actor
/// ends its threads and closes its sockets.
/// </summary>
public sealed class SystemPortActor : PortActor
{
    /// <summary>The port type's name, as ovs-vsctl's `type=system`.</summary>
    public const string TypeName = "system";

    private readonly SystemPortSettings _settings;
    private readonly SystemPortSockets _sockets;
    private readonly SharedReceiveWindow _window;
    private readonly List<SystemPortReceiver> _receivers = [];
    private long _pauseGeneration;
    private int _pausedReceivers;

    private SystemPortActor(SystemPortSettings settings, SystemPortSockets sockets, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, PortPools pools)
        : base([settings.Port], pmds, batches, pools, finite: false)
    {
        _settings = settings;
        _sockets = sockets;
        _window = new SharedReceiveWindow(pmds.Count, settings.Window);
        Receive<ReceiverPaused>(HandlePaused);
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
        try
        {
            // One receive pool per queue (its thread's), one transmit pool; packets hold the largest frame the MTU allows.
            int capacity = Math.Max(Packet.DefaultCapacity, sockets.Interface.MaxFrame + Packet.DefaultHeadroom);
            var pools = new PortPools(
                PortPools.Pools(sockets.Receive.Count, settings.ReceivePoolSize, capacity),
                PortPools.Pools(1, settings.TransmitPoolSize, capacity));
            var props = Akka.Actor.Props.CreateBy(new Producer(settings, sockets, pmds, batches, pools));
            return StartActor(factory, props, name, [settings.Port], pools, TypeName, settings.Name ?? settings.Interface);
        }
        catch
        {
            sockets.DisposeAll();
            throw;
        }
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
        for (int q = 0; q < _sockets.Receive.Count; q++)
        {
            var receiver = new SystemPortReceiver(
                _sockets.Receive[q],
                _settings.Port,
                q,
                Pmds,
                _window,
                Batches,
                Pools.Receive[q],
                Self,
                () => scheduler.Now.ToUnixTimeMilliseconds(),
                _settings.PollInterval);
            _receivers.Add(receiver);
            receiver.Start();
        }

        // The threads start paused and hold nothing.
        _pausedReceivers = _receivers.Count;
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

    private protected override bool OnStart()
    {
        _pausedReceivers = 0;
        foreach (var receiver in _receivers)
        {
            receiver.Resume();
        }

        return true;
    }

    /// <summary>The threads stop handing frames on; each says so once it holds none (<see cref="ReceiverPaused"/>).</summary>
    private protected override void OnStopped()
    {
        _pauseGeneration++;
        _pausedReceivers = 0;
        foreach (var receiver in _receivers)
        {
            receiver.Pause(_pauseGeneration);
        }
    }

    /// <summary>A live interface is an endless source: a drain stops it, and the PMDs are quiesced once every thread has paused.</summary>
    private protected override bool SourceStill => _pausedReceivers == _receivers.Count;

    private protected override void OnBatchTaken(int pmd) => _window.Taken(pmd);

    /// <summary>Written to the interface without waiting: a full socket buffer or a down interface is an error, a frame over the MTU is not sent.</summary>
    private protected override TransmitOutcome Send(int portIndex, Packet packet)
    {
        var frame = packet.Data;
        if (!_sockets.Interface.Fits(frame))
        {
            return TransmitOutcome.TooLong;
        }

        return _sockets.Transmit.Send(frame) ? TransmitOutcome.Sent : TransmitOutcome.Error;
    }

    private protected override PortActorStatistics Statistics()
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

        var tx = CountersAt(0);
        var port = new PortStatistics(_settings.Port, rxPackets, rxBytes, tx.TxPackets, tx.TxBytes, overload, poolEmpty, tooLong, errors, tx.TxDroppedTooLong, tx.TxErrors);
        return new PortActorStatistics([port], null, null);
    }

    private void HandlePaused(ReceiverPaused message)
    {
        if (message.Generation == _pauseGeneration && _pausedReceivers < _receivers.Count)
        {
            _pausedReceivers++;
            TryDrain();
        }
    }

    /// <summary>Makes the actor with its opened sockets (internal types, which Props' reflective constructor lookup cannot pass).</summary>
    private sealed class Producer(SystemPortSettings settings, SystemPortSockets sockets, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, PortPools pools) : IIndirectActorProducer
    {
        public Type ActorType => typeof(SystemPortActor);

        public ActorBase Produce() => new SystemPortActor(settings, sockets, pmds, batches, pools);

        public void Release(ActorBase actor)
        {
        }
    }
}
