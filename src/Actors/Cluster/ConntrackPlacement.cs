using System.Globalization;
using Actors.Conntrack;
using Actors.Conntrack.Handoff;
using Actors.Conntrack.Replica;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;

namespace Actors.Cluster;

/// <summary>
/// Where the cluster's conntrack shards are and what moved them, as `show` and the metrics report it:
/// the shards each node owns (the sharding coordinator's answer, every region asked), each node's
/// hand-off counts (its keeper's <see cref="HandoffStatistics"/>) and the replicas it keeps for other
/// nodes' shards (its replica keeper's <see cref="ReplicaStatistics"/>: how fresh each is). Asked off the packet path, every
/// question with a timeout: what does not answer in time is left out and said so, never waited for.
/// </summary>
public static class ConntrackPlacement
{
    /// <summary>Asks the cluster of <paramref name="system"/> (a cluster node); a standalone node owns every shard and moves none.</summary>
    public static async Task<ConntrackPlacementView> GatherAsync(ActorSystem system, IActorRef region, int shards, TimeSpan timeout, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(region);
        if (system is not ExtendedActorSystem { Provider: IClusterActorRefProvider })
        {
            var self = ((ExtendedActorSystem)system).Provider.DefaultAddress;
            return new ConntrackPlacementView(shards, [new ConntrackNodeView(self.ToString(), true, [.. Enumerable.Range(0, shards)], null, null)], [], true);
        }

        var cluster = Akka.Cluster.Cluster.Get(system);
        // An Exiting member has handed its shards off and its keeper may be gone: not asked (it still shows if it owns a shard).
        var members = cluster.State.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.Leaving or MemberStatus.Joining)
            .Select(m => m.Address).Append(cluster.SelfAddress).Distinct().ToList();
        var owners = AskAsync<ClusterShardingStats>(region, new GetClusterShardingStats(timeout), timeout, cancellation);
        var handoffs = members.Select(address => AskAsync<HandoffStatistics>(ShardHandoff.KeeperAt(system, address), GetHandoffStatistics.Instance, timeout, cancellation)).ToList();
        var replicas = members.Select(address => AskAsync<ReplicaStatistics>(ShardReplicas.KeeperAt(system, address), GetReplicaStatistics.Instance, timeout, cancellation)).ToList();
        var stats = await owners.ConfigureAwait(false);
        var counts = await Task.WhenAll(handoffs).ConfigureAwait(false);
        var kept = await Task.WhenAll(replicas).ConfigureAwait(false);

        var byNode = new Dictionary<Address, List<int>>();
        if (stats is not null)
        {
            foreach (var (address, regionStats) in stats.Regions)
            {
                byNode[address] = [.. regionStats.Stats.Keys.Select(ShardOf).Where(s => s >= 0 && s < shards).Order()];
            }
        }

        // A region of a node that left may linger in the coordinator's answer for a moment, empty.
        var nodes = members.Union(byNode.Where(node => node.Value.Count > 0).Select(node => node.Key)).Distinct()
            .Select(address => (Address: address, Asked: members.IndexOf(address)))
            .Select(node => new ConntrackNodeView(
                node.Address.ToString(),
                node.Address.Equals(cluster.SelfAddress),
                byNode.TryGetValue(node.Address, out var owned) ? owned : [],
                node.Asked >= 0 ? counts[node.Asked] : null,
                node.Asked >= 0 ? kept[node.Asked] : null))
            .OrderBy(n => n.Node, StringComparer.Ordinal)
            .ToList();
        var placed = byNode.Values.SelectMany(s => s).ToHashSet();
        return new ConntrackPlacementView(shards, nodes, [.. Enumerable.Range(0, shards).Where(s => !placed.Contains(s))], stats is not null);
    }

    private static int ShardOf(string id) =>
        int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out int shard) ? shard : -1;

    private static async Task<T?> AskAsync<T>(ICanTell target, object message, TimeSpan timeout, CancellationToken cancellation)
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

/// <summary>The cluster's conntrack shards by node (<see cref="ConntrackPlacement"/>).</summary>
/// <param name="Shards">The shard count (datapath.conntrack.shards).</param>
/// <param name="Unplaced">Shards no region reported: moving (a hand-off under way), not started yet, or on a node that did not answer.</param>
/// <param name="OwnersAnswered">Whether the coordinator answered where the shards are (false: every node's list is empty for want of an answer).</param>
public sealed record ConntrackPlacementView(int Shards, IReadOnlyList<ConntrackNodeView> Nodes, IReadOnlyList<int> Unplaced, bool OwnersAnswered);

/// <summary>One node of <see cref="ConntrackPlacementView"/>.</summary>
/// <param name="Node">Its actor system's address (akka.tcp://datapath@HOST:PORT).</param>
/// <param name="Self">The node that answers.</param>
/// <param name="Shards">The shards it owns now, in order.</param>
/// <param name="Handoffs">Its keeper's counts; null on a standalone node, or when the keeper did not answer in time.</param>
/// <param name="Replicas">The replicas it keeps for other nodes' shards, with their age, and its replication counts; null on a standalone node, or when its replica keeper did not answer in time.</param>
public sealed record ConntrackNodeView(string Node, bool Self, IReadOnlyList<int> Shards, HandoffStatistics? Handoffs, ReplicaStatistics? Replicas);
