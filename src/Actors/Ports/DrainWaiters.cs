using Akka.Actor;

namespace Actors.Ports;

/// <summary>Who asked a port actor to drain (<see cref="DrainAndReport"/>): all answered together, once.</summary>
internal sealed class DrainWaiters
{
    private readonly List<IActorRef> _waiters = [];

    public int Count => _waiters.Count;

    public void Add(IActorRef waiter) => _waiters.Add(waiter);

    /// <summary>Sends <paramref name="answer"/> (<see cref="PortDrained"/> or <see cref="PortFailed"/>) to every waiter and forgets them.</summary>
    public void Answer(object answer)
    {
        foreach (var waiter in _waiters)
        {
            waiter.Tell(answer);
        }

        _waiters.Clear();
    }
}
