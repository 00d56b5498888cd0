using Actors.Bridge;
using Actors.Cluster;
using Actors.Conntrack;
using Actors.PacketPath;
using Actors.Pmd;
using Akka.Actor;
using Datapath.OpenFlow;
using Datapath.Packets;

namespace Actors.Node;

/// <summary>
/// The PMD actors of one node and its bridge, on top of its cluster (conntrack region): starts
/// them and stops them. The bridge (<see cref="BridgeActor"/>) owns the flow table and the ports and
/// hands them to the PMDs; flow commands go to <see cref="Bridge"/>. One PMD per receive queue in
/// Open vSwitch's terms.
/// </summary>
public sealed class DatapathNode
{
    private readonly IReadOnlyList<ConcurrentBatchPool>? _pmdBatches;

    private DatapathNode(DatapathCluster cluster, IReadOnlyList<IActorRef> pmds, IActorRef bridge, ConcurrentBatchPool batches, IReadOnlyList<string>? pmdDispatchers, IReadOnlyList<ConcurrentBatchPool>? pmdBatches)
    {
        PmdDispatchers = pmdDispatchers;
        _pmdBatches = pmdBatches;
        Cluster = cluster;
        Pmds = pmds;
        Bridge = bridge;
        Batches = batches;
    }

    /// <summary>How long a stopping node waits for its shards' tables to reach the other members (as the conntrack-handoff phase of a leave).</summary>
    private static readonly TimeSpan HandOffPatience = TimeSpan.FromSeconds(60);

    public DatapathCluster Cluster { get; }

    public IReadOnlyList<IActorRef> Pmds { get; }

    /// <summary>The bridge actor: flow commands (add/del/mod/replace-flows, dump-flows), ports, pmd-stats-show.</summary>
    public IActorRef Bridge { get; }

    /// <summary>The dispatcher of each PMD's own thread (datapath.pmd-dedicated-threads), for port actors that feed one PMD only; null when the PMDs share the default dispatcher.</summary>
    public IReadOnlyList<string>? PmdDispatchers { get; }

    /// <summary>Batch objects shared by this node's ports and PMDs (those on the shared pool).</summary>
    public ConcurrentBatchPool Batches { get; }

    /// <summary>
    /// The batch pool of PMD <paramref name="pmd"/>'s thread, which that PMD and the port actors on
    /// its thread rent from (with dedicated threads; the node's <see cref="Batches"/> otherwise). A
    /// batch goes back to the pool it came from (<see cref="PathBatch.ReturnHome"/>), so a thread's
    /// batches stay on its core: with one pool for the node, batch objects moved between the PMD
    /// threads and their writes missed the cache.
    /// </summary>
    public ConcurrentBatchPool BatchesOf(int pmd) => _pmdBatches is { } pools ? pools[pmd] : Batches;

    /// <summary>Starts <paramref name="pmdCount"/> PMDs and a bridge that serves them (named "<paramref name="namePrefix"/>-bridge").</summary>
    public static DatapathNode Start(DatapathCluster cluster, int pmdCount, PmdSettings settings, BridgeSettings bridgeSettings, string namePrefix = "pmd")
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentOutOfRangeException.ThrowIfLessThan(pmdCount, 1);
        if (settings.Cpus.Count > 0 && (!settings.DedicatedThreads || settings.Cpus.Count < pmdCount))
        {
            throw new ArgumentException($"{settings.Cpus.Count} CPUs for {pmdCount} PMDs, dedicated threads {(settings.DedicatedThreads ? "on" : "off")}: pinning needs a thread per PMD and a CPU for each", nameof(settings));
        }

        var batches = PathBatch.NewPool();
        var pmds = new IActorRef[pmdCount];
        var dispatchers = settings.DedicatedThreads ? new string[pmdCount] : null;
        var pmdBatches = settings.DedicatedThreads ? Enumerable.Range(0, pmdCount).Select(_ => PathBatch.NewPool()).ToArray() : null;
        for (int i = 0; i < pmdCount; i++)
        {
            var props = PmdActor.Props(i, settings, cluster.Conntrack, cluster.ConntrackSettings.Shards, pmdBatches?[i] ?? batches);
            if (dispatchers is not null)
            {
                dispatchers[i] = PmdThreads.Register(cluster.System, i);
                props = props.WithDispatcher(dispatchers[i]);
            }

            pmds[i] = cluster.System.ActorOf(props, $"{namePrefix}-{i}");
        }

        var bridge = cluster.System.ActorOf(BridgeActor.Props(pmds, bridgeSettings, batches), $"{namePrefix}-bridge");

        // The shards whose entities run on this node move to the PMDs that see their packets.
        if (cluster.ConntrackSettings.HostOnPmds)
        {
            ConntrackHosts.Get(cluster.System).Register(pmds);
            for (int shard = 0; shard < cluster.ConntrackSettings.Shards; shard++)
            {
                cluster.Conntrack.Tell(new ConntrackEnvelope(shard, FindShardHost.Instance));
            }
        }

        return new DatapathNode(cluster, pmds, bridge, batches, dispatchers, pmdBatches);
    }


    /// <summary>Makes <paramref name="entries"/> the bridge's whole table; completes once every PMD was sent it (anything sent to a PMD afterwards is processed with it).</summary>
    /// <returns>The bridge's new version.</returns>
    public async Task<long> UseFlowsAsync(IReadOnlyList<FlowEntry> entries, TimeSpan timeout)
    {
        var changed = await Bridge.Ask<FlowsChanged>(new SetFlows(entries), timeout).ConfigureAwait(false);
        return changed.Version;
    }

    /// <summary>Makes <paramref name="ports"/> the bridge's port list; completes once every PMD was sent it.</summary>
    public Task UsePortsAsync(IReadOnlyList<PortLink> ports, TimeSpan timeout) =>
        Bridge.Ask<PortsChanged>(new SetPorts(ports), timeout);

    /// <summary>
    /// Stops the bridge and the PMDs (their in-flight packets are counted as lost). A node of a larger
    /// cluster first hands its conntrack shards to the other members while its PMDs still answer for the
    /// shards they host (<see cref="DatapathCluster.HandOffShardsAsync"/>), so that nothing other nodes sent
    /// them is lost. The PMDs leave this node's registry of shard hosts before they stop: the shards they
    /// give back stay with their entities instead of being lent again to a PMD that is stopping (the table
    /// would go to dead letters, and the entity would wait 5 s before starting empty).
    /// </summary>
    public async Task StopAsync()
    {
        await Cluster.HandOffShardsAsync(HandOffPatience).ConfigureAwait(false);
        if (Cluster.ConntrackSettings.HostOnPmds)
        {
            ConntrackHosts.Get(Cluster.System).Register([]);
        }

        await Bridge.GracefulStop(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        foreach (var pmd in Pmds)
        {
            await pmd.GracefulStop(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
    }
}
