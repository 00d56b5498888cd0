using Actors.PacketPath;
using Actors.Ports;
using Akka.Actor;
using Akka.Event;

namespace Actors.Bridge;

// The bridge's named ports: ovs-vsctl add-port / del-port and ovs-ofctl show.
public sealed partial class BridgeActor
{
    // Open vSwitch's OFPP_MAX: port numbers above it are reserved (OFPP_IN_PORT, OFPP_LOCAL...).
    private const uint MaxPortNumber = 0xff00;

    private readonly Dictionary<uint, IActorRef> _created = [];

    // Destroyed ports whose actor has not stopped yet, and who waits for the answer.
    private readonly Dictionary<IActorRef, (IActorRef ReplyTo, PortDestroyed Answer)> _destroying = [];
    private readonly Dictionary<long, PendingShow> _pendingShows = [];
    private long _portActors;

    private static string NameOf(PortLink link) => link.Name ?? "p" + link.Port;

    private void HandleCreatePort(CreatePort message)
    {
        string name = message.Name?.Trim() ?? string.Empty;
        if (name.Length == 0)
        {
            Sender.Tell(new PortCommandFailed("a port needs a name"));
            return;
        }

        if (FindPort(name) is { } existing)
        {
            Sender.Tell(new PortCommandFailed($"port {name} already exists (number {existing.Port})"));
            return;
        }

        if (!TryChooseNumber(message.Number, out uint number, out string? error))
        {
            Sender.Tell(new PortCommandFailed($"{name}: {error}"));
            return;
        }

        PortHandle handle;
        try
        {
            handle = PortTypes.Start(Context, message with { Name = name }, number, _pmds.ToArray(), _batches, _settings, $"port-{number}-{++_portActors}");
        }
        catch (PortCommandException e)
        {
            Sender.Tell(new PortCommandFailed(e.Message));
            return;
        }

        _ports[number] = handle.Links[0];
        _created[number] = handle.Actor;
        Context.Watch(handle.Actor);

        // The PMDs get the new list before the port's first frame, which follows StartTraffic.
        SendPortsToPmds();
        handle.Actor.Tell(StartTraffic.Instance);
        Sender.Tell(new PortCreated(name, number));
    }

    private void HandleDestroyPort(DestroyPort message)
    {
        string name = message.Name?.Trim() ?? string.Empty;
        if (FindPort(name) is not { } link)
        {
            Sender.Tell(new PortCommandFailed("no such port: " + name));
            return;
        }

        _ports.Remove(link.Port);
        SendPortsToPmds();
        var answer = new PortDestroyed(name, link.Port);
        if (_created.Remove(link.Port, out var actor))
        {
            // Answered once the actor has stopped: its threads ended and its sockets are closed, so
            // the interface can be added again at once (as ovs-vsctl waits for the reconfiguration).
            _destroying[actor] = (Sender, answer);
            Context.Stop(actor);
            return;
        }

        StopUnlistedPorts();
        Sender.Tell(answer);
    }

    /// <summary>Asks every port actor for its counters through a gatherer; answers when all did or at the timeout.</summary>
    private void HandleShowPorts()
    {
        var ports = _ports.Values.Select(l => new PortDescription(l.Port, NameOf(l), l.Type ?? "unknown", null)).ToArray();
        var actors = PortActors();
        if (actors.Length == 0)
        {
            Sender.Tell(new PortsShown(ports));
            return;
        }

        long id = ++_nextRequest;
        _pendingShows[id] = new PendingShow(Sender, ports);
        AskThroughGatherer<PortActorStatistics>(id, actors, GetPortStatistics.Instance);
    }

    private void HandlePortStatistics(PmdAnswersGathered<PortActorStatistics> gathered)
    {
        if (AnswerDescribePorts(gathered))
        {
            return;
        }

        if (!_pendingShows.Remove(gathered.RequestId, out var pending))
        {
            return;
        }

        var counters = SumCounters(gathered);
        pending.ReplyTo.Tell(new PortsShown(pending.Ports.Select(p => p with { Counters = counters.GetValueOrDefault(p.Number) }).ToArray()));
    }

    /// <summary>Every actor serving a port: a port split by PMD has one per PMD, each counting its share.</summary>
    private IActorRef[] PortActors() =>
        _ports.Values.SelectMany(l => l.PerPmd is { } lanes ? lanes.Select(lane => lane.Actor).Prepend(l.Actor) : [l.Actor]).Distinct().ToArray();

    /// <summary>Each port's counters over the actors that serve it (the parts of a split port added up).</summary>
    private static Dictionary<uint, PortStatistics> SumCounters(PmdAnswersGathered<PortActorStatistics> gathered) =>
        PortStatistics.SumByPort(gathered.Answers.SelectMany(a => a.Ports)).ToDictionary(p => p.Port);

    private void HandleTerminated(Terminated message)
    {
        if (_pmds.Remove(message.ActorRef) || ForgetOpenFlow(message.ActorRef))
        {
            return;
        }

        if (_destroying.Remove(message.ActorRef, out var destroyed))
        {
            destroyed.ReplyTo.Tell(destroyed.Answer);
            return;
        }

        foreach (var (number, actor) in _created.ToArray())
        {
            if (actor.Equals(message.ActorRef))
            {
                // The port failed (its supervisor stopped it): it leaves the list so the PMDs stop sending to it.
                Context.GetLogger().Warning("Port {0} ({1}) stopped; removed from the bridge.", number, _ports.TryGetValue(number, out var link) ? NameOf(link) : "?");
                _created.Remove(number);
                if (_ports.TryGetValue(number, out link) && link.Actor.Equals(actor))
                {
                    _ports.Remove(number);
                    SendPortsToPmds();
                }
            }
        }
    }

    /// <summary>Stops the created ports whose number no longer leads to them (destroyed, removed or replaced).</summary>
    private void StopUnlistedPorts()
    {
        foreach (var (number, actor) in _created.ToArray())
        {
            if (!_ports.TryGetValue(number, out var link) || !link.Actor.Equals(actor))
            {
                _created.Remove(number);
                Context.Unwatch(actor);
                Context.Stop(actor);
            }
        }
    }

    private PortLink? FindPort(string name) => _ports.Values.FirstOrDefault(l => NameOf(l) == name);

    private bool TryChooseNumber(uint? requested, out uint number, out string? error)
    {
        error = null;
        if (requested is { } wanted)
        {
            number = wanted;
            if (wanted is 0 or > MaxPortNumber)
            {
                error = $"port number {wanted} is outside 1..{MaxPortNumber}";
            }
            else if (_ports.TryGetValue(wanted, out var taken))
            {
                error = $"port number {wanted} is in use by {NameOf(taken)}";
            }

            return error is null;
        }

        number = 1;
        while (_ports.ContainsKey(number))
        {
            number++;
        }

        return true;
    }

    /// <summary>A show in progress: who gets it, and the ports as they were when asked.</summary>
    private sealed record PendingShow(IActorRef ReplyTo, PortDescription[] Ports);
}
