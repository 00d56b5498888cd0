using Actors.Bridge;
using Actors.Cluster;
using Actors.Conntrack;
using Actors.Pmd;
using Akka.Actor;

namespace Host.Metrics;

/// <summary>
/// Asks the owning actors for their counters, each with a timeout, all at once: the bridge for its
/// PMDs' statistics and its ports (ovs-ofctl show), every conntrack shard through the region, and on
/// a cluster node where the shards are and every node's hand-offs (<see cref="ConntrackPlacement"/>).
/// An actor that does not answer in time gives null, never an exception: a scrape reports what it has.
/// </summary>
/// <param name="cluster">The node's actor system when it is a cluster node (placement and hand-offs are asked), else null.</param>
internal sealed class MetricsGatherer(IActorRef bridge, IActorRef conntrack, int shards, TimeSpan timeout, ActorSystem? cluster = null)
{
    public async Task<MetricsSnapshot> GatherAsync(CancellationToken cancellation)
    {
        var pmds = AskAsync<PmdStatisticsGathered>(bridge, GetPmdStatistics.Instance, cancellation);
        var ports = AskAsync<PortsShown>(bridge, ShowPorts.Instance, cancellation);
        var shardAnswers = Task.WhenAll(Enumerable.Range(0, shards)
            .Select(shard => AskAsync<ShardStatistics>(conntrack, new ConntrackEnvelope(shard, GetShardStatistics.Instance), cancellation)));
        var placement = cluster is null ? Task.FromResult<ConntrackPlacementView?>(null) : PlacementAsync(cluster, cancellation);
        return new MetricsSnapshot(
            await pmds.ConfigureAwait(false),
            await ports.ConfigureAwait(false),
            shards,
            (await shardAnswers.ConfigureAwait(false)).OfType<ShardStatistics>().ToArray())
        {
            Placement = await placement.ConfigureAwait(false),
        };
    }

    private async Task<ConntrackPlacementView?> PlacementAsync(ActorSystem system, CancellationToken cancellation) =>
        await ConntrackPlacement.GatherAsync(system, conntrack, shards, timeout, cancellation).ConfigureAwait(false);

    private async Task<T?> AskAsync<T>(IActorRef target, object message, CancellationToken cancellation)
        where T : class
    {
        try
        {
            return await target.Ask<object>(message, timeout, cancellation).ConfigureAwait(false) as T;
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }
}

/// <summary>What one scrape gathered; null (or a shard left out) where the owner did not answer in time.</summary>
internal sealed record MetricsSnapshot(PmdStatisticsGathered? Pmds, PortsShown? Ports, int ShardsAsked, IReadOnlyList<ShardStatistics> Shards)
{
    /// <summary>Where the shards are and every node's hand-offs; null on a standalone node.</summary>
    public ConntrackPlacementView? Placement { get; init; }
}
