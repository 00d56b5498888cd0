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
    public static async Task<IReadOnlyList<string>> RunAsync(DatapathNode node, IReadOnlyList<ReplayFrame> frames, TimeSpan timeout) =>
        (await FinishAsync(node, frames, timeout).ConfigureAwait(false)).Verdicts;

    /// <summary>As <see cref="RunAsync(DatapathNode, IReadOnlyList{ReplayFrame}, TimeSpan)"/>, with the ports' counters and the frames that left each port.</summary>
    public static async Task<ReplayFinished> FinishAsync(DatapathNode node, IReadOnlyList<ReplayFrame> frames, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(node);
        var replay = ReplayPortActor.Start(node.Cluster.System, frames, node.Pmds, node.Batches);
        try
        {
            await node.UsePortsAsync(replay.Links, timeout).ConfigureAwait(false);
            return await replay.Actor.Ask<ReplayFinished>(StartReplay.Instance, timeout).ConfigureAwait(false);
        }
        finally
        {
            replay.Actor.Tell(PoisonPill.Instance);
        }
    }
}
