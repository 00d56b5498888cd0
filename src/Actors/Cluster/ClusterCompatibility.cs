using Actors.Conntrack;
using Actors.Conntrack.Handoff;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Datapath.Conntrack;

namespace Actors.Cluster;

/// <summary>
/// Refuses to join a node to a cluster whose conntrack it cannot share: a different shard count
/// (connections would be owned by different shards on different nodes) or table chunk format (hand-offs
/// could not be read). Asked of every member's keeper once the node is Up and before its region starts,
/// so a refused node never owns a shard. Akka.NET has no join-time configuration check of its own.
/// </summary>
public static class ClusterCompatibility
{
    /// <exception cref="ClusterIncompatibleException">A member disagrees; the message names the key, both values and the member.</exception>
    public static async Task CheckAsync(ActorSystem system, ConntrackSettings settings, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(settings);
        var cluster = Akka.Cluster.Cluster.Get(system);
        var others = cluster.State.Members.Where(m => m.Status == MemberStatus.Up && !m.Address.Equals(cluster.SelfAddress)).ToList();
        foreach (var member in others)
        {
            ConntrackShape shape;
            try
            {
                shape = await ShardHandoff.KeeperAt(system, member.Address).Ask<ConntrackShape>(GetConntrackShape.Instance, timeout).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                // Every node starts its keeper before it joins, so an Up member that does not
                // answer is unreachable or stalled: joining anyway keeps a node's start from
                // depending on every other member, and the warning says what was not checked.
                system.Log.Warning("Cluster check: {0} did not answer within {1}; its conntrack shard count was not compared with this node's.", member.Address, timeout);
                continue;
            }

            if (shape.Shards != 0 && shape.Shards != settings.Shards)
            {
                throw new ClusterIncompatibleException(
                    $"node {cluster.SelfAddress} refused by the cluster: datapath.conntrack.shards = {settings.Shards} here but {shape.Shards} on {member.Address}; every node must use the same shard count");
            }

            if (shape.Shards != 0 && shape.TableFormat != ConnectionTable.TransferFormat)
            {
                throw new ClusterIncompatibleException(
                    $"node {cluster.SelfAddress} refused by the cluster: conntrack table format {ConnectionTable.TransferFormat} here but {shape.TableFormat} on {member.Address}");
            }
        }
    }
}

/// <summary>This node cannot share the cluster's conntrack (<see cref="ClusterCompatibility"/>).</summary>
public sealed class ClusterIncompatibleException : Exception
{
    public ClusterIncompatibleException()
    {
    }

    public ClusterIncompatibleException(string message)
        : base(message)
    {
    }

    public ClusterIncompatibleException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
