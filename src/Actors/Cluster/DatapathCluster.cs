using Actors.Conntrack;
using Actors.Conntrack.Handoff;
using Actors.Conntrack.Replica;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;

namespace Actors.Cluster;

/// <summary>
/// One node of the datapath: the actor system made from the configuration's `akka` section, with
/// the conntrack region started. By default (`akka.actor.provider = local`) the node stands alone:
/// its conntrack shards are local actors (<see cref="LocalConntrackRegion"/>), and it starts and
/// stops without remoting, membership gossip or a sharding coordinator, none of which has anything
/// to do with one node. With `provider = cluster` it joins its cluster (the seed nodes, else
/// itself) and the shards are Akka.Cluster.Sharding entities spread over the nodes.
/// Dispose, or <see cref="ShutdownAsync"/>, stops it: a cluster node leaves gracefully
/// (CoordinatedShutdown: its shards hand off).
/// </summary>
public sealed class DatapathCluster : IAsyncDisposable
{
    private DatapathCluster(ActorSystem system, ConntrackSettings conntrackSettings, IActorRef conntrack, bool clustered)
    {
        System = system;
        ConntrackSettings = conntrackSettings;
        Conntrack = conntrack;
        IsClustered = clustered;
    }

    public ActorSystem System { get; }

    /// <summary>Whether this node is a member of an Akka cluster (provider = cluster), or stands alone.</summary>
    public bool IsClustered { get; }

    /// <summary>What this node's conntrack shards run with (their count is the cluster's).</summary>
    public ConntrackSettings ConntrackSettings { get; }

    /// <summary>This node's conntrack shard region.</summary>
    public IActorRef Conntrack { get; }

    /// <summary>This node's address (with the port the OS chose when the configuration says 0; a local address when it stands alone).</summary>
    public Address Address => IsClustered ? Akka.Cluster.Cluster.Get(System).SelfAddress : ((ExtendedActorSystem)System).Provider.DefaultAddress;

    /// <summary>Whether <paramref name="config"/> makes a cluster node (`akka.actor.provider = cluster`) rather than a standalone one.</summary>
    public static bool IsClusterProvider(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        string provider = config.GetString("akka.actor.provider", "local") ?? "local";
        return provider.Equals("cluster", StringComparison.OrdinalIgnoreCase)
            || provider.StartsWith("Akka.Cluster.ClusterActorRefProvider", StringComparison.Ordinal);
    }

    /// <summary>
    /// Starts a node. A cluster node (provider = cluster) is returned once it is Up: it joins
    /// <paramref name="seedNodes"/> when given, else the configuration's seed nodes, else itself; a
    /// node that joined itself returns with its conntrack shards running
    /// (<see cref="WhenConntrackReadyAsync"/>). A standalone node (provider = local) is ready at once
    /// (its shards are local actors, started by their first message).
    /// </summary>
    /// <param name="config">The configuration the actor system is made from (its `akka` section: cluster provider, serializers, seed nodes).</param>
    /// <param name="conntrack">The conntrack shards' settings, read from the same configuration.</param>
    /// <exception cref="TimeoutException">The node was not Up, or its shards not running, within <paramref name="upTimeout"/> (default 30 s); the system is shut down.</exception>
    /// <exception cref="ArgumentException">Seed nodes for a standalone node (provider = local).</exception>
    public static async Task<DatapathCluster> StartAsync(
        Config config,
        ConntrackSettings conntrack,
        string systemName = "datapath",
        IReadOnlyList<Address>? seedNodes = null,
        TimeSpan? upTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(conntrack);
        if (!IsClusterProvider(config))
        {
            if (seedNodes is { Count: > 0 })
            {
                throw new ArgumentException("Seed nodes need akka.actor.provider = cluster.", nameof(seedNodes));
            }

            var local = ActorSystem.Create(systemName, config);
            return new DatapathCluster(local, conntrack, local.ActorOf(LocalConntrackRegion.Props(conntrack), ConntrackSharding.TypeName), clustered: false);
        }

        var system = ActorSystem.Create(systemName, config);
        try
        {
            var cluster = Akka.Cluster.Cluster.Get(system);

            // The conntrack keepers answer other nodes' claims from the moment this node can join.
            ShardHandoff.Get(system);
            ShardReplicas.Get(system);
            var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            cluster.RegisterOnMemberUp(() => up.TrySetResult());
            bool alone = seedNodes is not { Count: > 0 } && cluster.Settings.SeedNodes.Count == 0;
            if (seedNodes is { Count: > 0 })
            {
                cluster.JoinSeedNodes(seedNodes);
            }
            else if (alone)
            {
                cluster.Join(cluster.SelfAddress);
            }

            var timeout = upTimeout ?? TimeSpan.FromSeconds(30);
            if (await Task.WhenAny(up.Task, Task.Delay(timeout)).ConfigureAwait(false) != up.Task)
            {
                throw new TimeoutException($"The node {cluster.SelfAddress} did not join its cluster within {timeout}.");
            }

            // Once Up, so that the coordinator singleton starts from a settled membership (see the
            // two-node test: a coordinator already running when a second in-process node joined
            // stalled its hand-over under Akka.NET 1.5.73).
            if (!alone)
            {
                // As patient as the join: a member that answers late on a loaded machine must not
                // let a node with another shard count in.
                await ClusterCompatibility.CheckAsync(system, conntrack, timeout).ConfigureAwait(false);
            }

            var region = await ConntrackSharding.StartAsync(system, conntrack).ConfigureAwait(false);
            var started = new DatapathCluster(system, conntrack, region, clustered: true);

            // Alone, this node owns every shard: starting them now keeps their start (and the
            // region's first registration, retried every 2 s) from delaying the first packets.
            // In a larger cluster the coordinator places them as nodes join.
            if (alone)
            {
                try
                {
                    await started.WhenConntrackReadyAsync(timeout).ConfigureAwait(false);
                }
                catch (AskTimeoutException)
                {
                    throw new TimeoutException($"The conntrack shards of {cluster.SelfAddress} did not start within {timeout}.");
                }
            }

            return started;
        }
        catch
        {
            await system.Terminate().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Waits until every conntrack shard answers. Shards start on their first message, and a cluster
    /// region's registration with the coordinator is retried every 2 s (akka.cluster.sharding
    /// retry-interval): without this, the first packets of a job can wait a second or two for
    /// their conntrack answers, longer than a generator connection's timeout.
    /// </summary>
    /// <exception cref="AskTimeoutException">A shard did not answer within <paramref name="timeout"/>.</exception>
    public Task WhenConntrackReadyAsync(TimeSpan timeout) =>
        Task.WhenAll(Enumerable.Range(0, ConntrackSettings.Shards)
            .Select(shard => Conntrack.Ask<ShardStatistics>(new ConntrackEnvelope(shard, GetShardStatistics.Instance), timeout)));

    /// <summary>
    /// Hands this node's conntrack shards to the other members, their tables with them, and returns once
    /// every table was taken: the region hands off (as it does when the node leaves) while the node's PMDs
    /// still run and answer what the shards they host were sent. A node that stops its PMDs first makes
    /// the batches already on their way to them dead letters, lost answers for their senders. Nothing to do
    /// on a standalone node or the last member (its conntrack ends with it). The region is gone afterwards.
    /// </summary>
    public async Task HandOffShardsAsync(TimeSpan timeout)
    {
        if (!IsClustered)
        {
            return;
        }

        var cluster = Akka.Cluster.Cluster.Get(System);
        var unreachable = cluster.State.Unreachable;
        if (!cluster.State.Members.Any(m => m.Status == Akka.Cluster.MemberStatus.Up && !m.Address.Equals(cluster.SelfAddress) && !unreachable.Contains(m)))
        {
            return;
        }

        var handoff = ShardHandoff.Get(System);
        handoff.BeginLeaving();
        try
        {
            // Every member learns first that this node takes no shard any more (LeavingAwareAllocationStrategy on the coordinator's node).
            string self = cluster.SelfAddress.ToString();
            await Task.WhenAll(cluster.State.Members.Where(m => !unreachable.Contains(m)).Select(async member =>
            {
                try
                {
                    await ShardHandoff.KeeperAt(System, member.Address).Ask<NodeLeavingNoted>(new NodeLeaving(self), TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                }
                catch (AskTimeoutException)
                {
                    System.Log.Warning("conntrack: the keeper of {0} did not note this node's leave in time", member.Address);
                }
            })).ConfigureAwait(false);

            await Conntrack.GracefulStop(timeout, Akka.Cluster.Sharding.GracefulShutdown.Instance).ConfigureAwait(false);
            await handoff.Keeper.Ask<NoneParked>(AwaitNoneParked.Instance, timeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TaskCanceledException or AskTimeoutException or TimeoutException)
        {
            System.Log.Error("conntrack: this node's shards were not all handed off within {0}; the rest move when it leaves", timeout);
        }
    }

    /// <summary>Leaves the cluster (shards hand off) and terminates the actor system; a standalone node just terminates.</summary>
    public async Task ShutdownAsync()
    {
        var reason = IsClustered ? Akka.Actor.CoordinatedShutdown.ClusterLeavingReason.Instance : Akka.Actor.CoordinatedShutdown.ActorSystemTerminateReason.Instance;
        await Akka.Actor.CoordinatedShutdown.Get(System).Run(reason).ConfigureAwait(false);
        await System.WhenTerminated.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await ShutdownAsync().ConfigureAwait(false);
}
