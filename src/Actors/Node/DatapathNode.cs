using Actors.Cluster;
using Actors.Pmd;
using Actors.Ports;
using Akka.Actor;
using Datapath.OpenFlow;
using Datapath.Packets;

namespace Actors.Node;

/// <summary>
/// The PMD actors of one node, on top of its cluster (conntrack region): starts them, hands them
/// the flow table and the ports, and stops them. One PMD per receive queue in Open vSwitch's terms.
/// </summary>
public sealed class DatapathNode
{
    private DatapathNode(DatapathCluster cluster, IReadOnlyList<IActorRef> pmds, ConcurrentBatchPool batches)
    {
        Cluster = cluster;
        Pmds = pmds;
        Batches = batches;
    }

    public DatapathCluster Cluster { get; }

    public IReadOnlyList<IActorRef> Pmds { get; }

    /// <summary>Batch objects shared by this node's ports and PMDs.</summary>
    public ConcurrentBatchPool Batches { get; }

    public static DatapathNode Start(DatapathCluster cluster, int pmdCount, PmdSettings settings, string namePrefix = "pmd")
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentOutOfRangeException.ThrowIfLessThan(pmdCount, 1);
        var batches = new ConcurrentBatchPool();
        var pmds = new IActorRef[pmdCount];
        for (int i = 0; i < pmdCount; i++)
        {
            pmds[i] = cluster.System.ActorOf(
                PmdActor.Props(i, settings, cluster.Conntrack, cluster.Settings.Conntrack.Shards, batches),
                $"{namePrefix}-{i}");
        }

        return new DatapathNode(cluster, pmds, batches);
    }

    public void UseFlows(long version, IReadOnlyList<FlowEntry> entries)
    {
        foreach (var pmd in Pmds)
        {
            pmd.Tell(new UseFlows(version, entries));
        }
    }

    public void UsePorts(IReadOnlyList<PortLink> ports)
    {
        foreach (var pmd in Pmds)
        {
            pmd.Tell(new UsePorts(ports));
        }
    }

    /// <summary>Stops the PMDs (their in-flight packets are counted as lost).</summary>
    public async Task StopAsync()
    {
        foreach (var pmd in Pmds)
        {
            await pmd.GracefulStop(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
    }
}
