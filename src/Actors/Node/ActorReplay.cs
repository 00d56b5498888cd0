using Actors.Ports;
using Akka.Actor;
using Datapath.OpenFlow;

namespace Actors.Node;

/// <summary>Runs a replay on a node's PMDs and returns its verdicts (off the packet path, so it may wait).</summary>
public static class ActorReplay
{
    /// <summary>Installs <paramref name="flows"/> through the node's bridge, then replays <paramref name="frames"/>.</summary>
    public static async Task<IReadOnlyList<string>> RunAsync(DatapathNode node, IReadOnlyList<FlowEntry> flows, IReadOnlyList<ReplayFrame> frames, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(node);
        await node.UseFlowsAsync(flows, timeout).ConfigureAwait(false);
        return await RunAsync(node, frames, timeout).ConfigureAwait(false);
    }

    /// <summary>
    /// Replays <paramref name="frames"/> with the flows the node's bridge has now: ports 1 and 2
    /// become a new replay port. Calls can follow one another on one node (its caches and
    /// conntrack state carry over), with flow changes through the bridge in between.
    /// </summary>
    public static async Task<IReadOnlyList<string>> RunAsync(DatapathNode node, IReadOnlyList<ReplayFrame> frames, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(node);
        var replay = ReplayPortActor.Start(node.Cluster.System, frames, node.Pmds, node.Batches);
        try
        {
            await node.UsePortsAsync(replay.Links, timeout).ConfigureAwait(false);
            var finished = await replay.Actor.Ask<ReplayFinished>(StartReplay.Instance, timeout).ConfigureAwait(false);
            return finished.Verdicts;
        }
        finally
        {
            replay.Actor.Tell(PoisonPill.Instance);
        }
    }
}
