using Actors.Ports;
using Akka.Actor;

namespace Actors.Node;

/// <summary>
/// A replay port that stays attached to a node's PMDs for runs of frames one after another
/// (<see cref="ReplayMore"/>), each answered with its verdicts: what a two-process replay does for
/// every phase of every capture. <see cref="ActorReplay"/> makes a port per replay, which costs a port
/// change on every PMD (the bridge's round); a session pays it once. One run at a time.
/// </summary>
public sealed class ReplaySession
{
    private readonly PortHandle _port;

    private ReplaySession(PortHandle port)
    {
        _port = port;
    }

    /// <summary>Starts a replay port with no frames and makes it the node's ports 1 and 2.</summary>
    public static async Task<ReplaySession> StartAsync(DatapathNode node, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(node);
        var port = ReplayPortActor.Start(node.Cluster.System, [], node.Pmds, node.Batches);
        await node.UsePortsAsync(port.Links, timeout).ConfigureAwait(false);
        return new ReplaySession(port);
    }

    /// <summary>Replays <paramref name="frames"/> in order, each finished before the next, and returns their verdict lines.</summary>
    public async Task<IReadOnlyList<string>> RunAsync(IReadOnlyList<ReplayFrame> frames, TimeSpan timeout)
    {
        var finished = await _port.Actor.Ask<ReplayFinished>(new ReplayMore(frames), timeout).ConfigureAwait(false);
        return finished.Verdicts;
    }

    /// <summary>Stops the port (the node's PMDs keep its links until the bridge is given others or stops).</summary>
    public void Stop() => _port.Actor.Tell(PoisonPill.Instance);
}
