using Actors.PacketPath;
using Akka.Actor;
using Akka.Event;
using Datapath.Packets;

namespace Actors.Ports;

/// <summary>
/// The skeleton of every port actor (generator, pcap, replay, stream, system): what they share of
/// transmitting, draining, counting and pool ownership, so that a port type writes only where its
/// frames come from and what sending one means.
///
/// Transmit: each packet of a <see cref="PathBatch"/> is handed to <see cref="Send"/>, counted
/// by its outcome, and given back to the pool it came from (<see cref="PortPools.Release"/>: the
/// only place a port lets go of a transmitted packet); the batch goes back to the node's batch pool.
/// Receive: the port type feeds the PMDs (through <see cref="ReceiveQueues"/> or its own threads);
/// the PMDs' <see cref="BatchTaken"/> reaches <see cref="OnBatchTaken"/>.
/// Traffic and drain: <see cref="StartTraffic"/>, <see cref="StopTraffic"/> and
/// <see cref="DrainAndReport"/> drive a <see cref="PortLifecycle"/>; once it says the source is
/// still, every PMD is quiesced and the waiters get <see cref="PortDrained"/> with the counters
/// (or <see cref="PortFailed"/> with the reason). <see cref="GetPortStatistics"/> is answered here.
/// Work in slices: <see cref="Wake"/> sends the actor one message to do the next slice
/// (<see cref="OnWake"/>), never more than one outstanding.
/// </summary>
public abstract partial class PortActor : ReceiveActor
{
    // Above any token a port type's own quiescers use (frame numbers, barrier counts).
    private const long DrainTokenBase = 1L << 48;

    private readonly IReadOnlyList<uint> _ports;
    private readonly PortCounters[] _counters;
    private readonly PmdQuiescer _drain;
    private readonly DrainWaiters _drainWaiters = new();
    private readonly PortLifecycle _lifecycle;
    private bool _wakePending;
    private long _strayPackets;

    /// <param name="ports">The OpenFlow port numbers this actor serves, in the order of <paramref name="pools"/>' transmit pools.</param>
    /// <param name="finite">The source ends by itself; a drain then lets it run to its end.</param>
    private protected PortActor(IReadOnlyList<uint> ports, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches, PortPools pools, bool finite)
    {
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(pmds);
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(pools);
        _ports = ports;
        _counters = ports.Select(p => new PortCounters(p)).ToArray();
        Pmds = pmds;
        Batches = batches;
        Pools = pools;
        _lifecycle = new PortLifecycle(finite);
        _drain = new PmdQuiescer(pmds, Self, DrainTokenBase);

        Receive<PathBatch>(HandleTransmit);
        Receive<BatchTaken>(m => OnBatchTaken(m.Pmd));
        Receive<StartTraffic>(_ => HandleStart());
        Receive<StopTraffic>(_ => StopTraffic());
        Receive<DrainAndReport>(_ => HandleDrain());
        Receive<GetPortStatistics>(_ => Sender.Tell(Statistics()));
        Receive<Quiesced>(HandleQuiesced);
        Receive<WakeUp>(_ =>
        {
            _wakePending = false;
            OnWake();
        });
    }

    private protected IReadOnlyList<IActorRef> Pmds { get; }

    private protected ConcurrentBatchPool Batches { get; }

    private protected PortPools Pools { get; }

    private protected PortLifecycle Lifecycle => _lifecycle;

    /// <summary>The OpenFlow number of the port at <paramref name="index"/>.</summary>
    private protected uint PortAt(int index) => _ports[index];

    private protected PortCounters CountersAt(int index) => _counters[index];

    /// <summary>The index of <paramref name="port"/> among this actor's ports, or -1.</summary>
    private protected int IndexOf(uint port)
    {
        for (int i = 0; i < _ports.Count; i++)
        {
            if (_ports[i] == port)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Starts the actor and makes one <see cref="PortLink"/> per port, with that port's transmit pool.</summary>
    private protected static PortHandle StartActor(IActorRefFactory factory, Props props, string? name, IReadOnlyList<uint> ports, PortPools pools, string type, string? portName = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        var actor = factory.ActorOf(props, name);
        var links = new PortLink[ports.Count];
        for (int i = 0; i < links.Length; i++)
        {
            links[i] = new PortLink(ports[i], actor, pools.Transmit[i], portName, type);
        }

        return new PortHandle(actor, links, pools);
    }

    private protected PortStatistics[] Snapshots() => _counters.Select(c => c.Snapshot()).ToArray();

    /// <summary>Asks for one <see cref="OnWake"/>; a call while one is pending does nothing.</summary>
    private protected void Wake()
    {
        if (!_wakePending)
        {
            _wakePending = true;
            Self.Tell(WakeUp.Instance);
        }
    }

    /// <summary>A finite source has no more frames; a drain waiting for that goes on.</summary>
    private protected void EndTraffic()
    {
        bool wasRunning = _lifecycle.Running;
        if (_lifecycle.End() && wasRunning)
        {
            OnStopped();
        }

        TryDrain();
    }

    /// <summary>Runs the source (<see cref="StartTraffic"/>) if the lifecycle and the port type agree; true when it now runs.</summary>
    private protected bool StartTraffic()
    {
        if (!_lifecycle.Start())
        {
            return false;
        }

        if (!OnStart())
        {
            _lifecycle.Stop();
            return false;
        }

        return true;
    }

    /// <summary>Stops the source (<see cref="StopTraffic"/>); batches already sent still run through the datapath.</summary>
    private protected void StopTraffic()
    {
        if (_lifecycle.Stop())
        {
            OnStopped();
            TryDrain();
        }
    }

    /// <summary>The source cannot go on: logged, published on the event stream, and the answer to drains and starts from now on.</summary>
    private protected void FailTraffic(string reason)
    {
        bool wasRunning = _lifecycle.Running;
        _lifecycle.Fail(reason);
        if (wasRunning)
        {
            OnStopped();
        }

        Context.GetLogger().Error("{0}", reason);
        var failed = new PortFailed(reason);
        Context.System.EventStream.Publish(failed);
        _drainWaiters.Answer(failed);
    }

    /// <summary>Quiesces the PMDs for a waiting drain when the lifecycle and the port type agree the source is still.</summary>
    private protected void TryDrain()
    {
        if (_lifecycle.TryBeginQuiesce(SourceStill))
        {
            BeforeQuiesce();
            _drain.Start();
        }
    }

    private void HandleTransmit(PathBatch message)
    {
        int index = IndexOf(message.OutputPort);
        if (index < 0)
        {
            DropStray(message);
            return;
        }

        var counters = _counters[index];
        BeginTransmit();
        foreach (var packet in message.Packets)
        {
            counters.Transmitted(Send(index, packet), packet.Length);
        }

        PortPools.ReleaseAll(message.Packets);
        message.ReturnHome();
        EndTransmit();
    }

    /// <summary>Frames for a port this actor does not serve (a wrong link): given back to their pools, logged once.</summary>
    private void DropStray(PathBatch message)
    {
        if (_strayPackets == 0)
        {
            Context.GetLogger().Warning("Frames to send on port {0}, which this actor does not serve: dropped.", message.OutputPort);
        }

        _strayPackets += message.Count;
        PortPools.ReleaseAll(message.Packets);
        message.ReturnHome();
    }

    private void HandleStart()
    {
        if (_lifecycle.Failure is { } reason)
        {
            Sender.Tell(new PortFailed(reason));
            return;
        }

        StartTraffic();
    }

    private void HandleDrain()
    {
        if (_lifecycle.Failure is { } reason)
        {
            Sender.Tell(new PortFailed(reason));
            return;
        }

        _drainWaiters.Add(Sender);
        if (_lifecycle.RequestDrain())
        {
            OnStopped();
        }

        TryDrain();
    }

    private void HandleQuiesced(Quiesced message)
    {
        if (!_drain.Answered(message))
        {
            OnQuiesced(message);
            return;
        }

        BeforeDrained();
        _lifecycle.Drained();
        _drainWaiters.Answer(new PortDrained(Statistics()));
    }

    private sealed class WakeUp : INoSerializationVerificationNeeded
    {
        public static WakeUp Instance { get; } = new();
    }
}
