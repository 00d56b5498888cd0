using Actors.Node;
using Akka.Actor;
using Datapath.OpenFlow;
using Datapath.Packets;

namespace Actors.Ports;

/// <summary>Runs a whole replay on a node's PMDs and returns its verdicts (off the packet path, so it may wait).</summary>
public static class ActorReplay
{
    public static async Task<IReadOnlyList<string>> RunAsync(DatapathNode node, IReadOnlyList<FlowEntry> flows, IReadOnlyList<ReplayFrame> frames, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(node);
        var transmitPool = new ConcurrentPacketPool(1024);
        var replay = node.Cluster.System.ActorOf(ReplayPortActor.Props(frames, node.Pmds, transmitPool, node.Batches));
        try
        {
            node.UsePorts([new PortLink(1, replay, transmitPool), new PortLink(2, replay, transmitPool)]);
            node.UseFlows(1, flows);
            var finished = await replay.Ask<ReplayFinished>(StartReplay.Instance, timeout).ConfigureAwait(false);
            return finished.Verdicts;
        }
        finally
        {
            replay.Tell(PoisonPill.Instance);
        }
    }
}
