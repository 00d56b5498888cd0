using Actors.Bridge;
using Actors.Conntrack;
using Actors.Pmd;
using Akka.Actor;

namespace Host.Metrics;

/// <summary>
/// Asks the owning actors for their counters, each with a timeout, all at once: the bridge for its
/// PMDs' statistics and its ports (ovs-ofctl show), every conntrack shard through the region. An
/// actor that does not answer in time gives null, never an exception: a scrape reports what it has.
/// </summary>
internal sealed class MetricsGatherer(IActorRef bridge, IActorRef conntrack, int shards, TimeSpan timeout)
{
    public async Task<MetricsSnapshot> GatherAsync(CancellationToken cancellation)
    {
        var pmds = AskAsync<PmdStatisticsGathered>(bridge, GetPmdStatistics.Instance, cancellation);
        var ports = AskAsync<PortsShown>(bridge, ShowPorts.Instance, cancellation);
        var shardAnswers = Task.WhenAll(Enumerable.Range(0, shards)
            .Select(shard => AskAsync<ShardStatistics>(conntrack, new ConntrackEnvelope(shard, GetShardStatistics.Instance), cancellation)));
        return new MetricsSnapshot(
            await pmds.ConfigureAwait(false),
            await ports.ConfigureAwait(false),
            shards,
            (await shardAnswers.ConfigureAwait(false)).OfType<ShardStatistics>().ToArray());
    }

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
internal sealed record MetricsSnapshot(PmdStatisticsGathered? Pmds, PortsShown? Ports, int ShardsAsked, IReadOnlyList<ShardStatistics> Shards);
