using Akka.Actor;
using Akka.Cluster;

namespace Actors.Conntrack.Replica;

/// <summary>
/// A node's part in keeping conntrack replicas: its keeper (<see cref="ReplicaKeeperActor"/>, started
/// before the node joins so that it answers other nodes' claims from the start; it learns the conntrack
/// settings when the node's region starts) and where each shard's replica lives.
/// </summary>
public sealed class ShardReplicas : IExtension
{
    public ShardReplicas(ExtendedActorSystem system) =>
        Keeper = system.ActorOf(ReplicaKeeperActor.Props(), ReplicaLimits.KeeperName);

    /// <summary>This node's keeper.</summary>
    public IActorRef Keeper { get; }

    public static ShardReplicas Get(ActorSystem system) => system.WithExtension<ShardReplicas, ShardReplicasProvider>();

    /// <summary>The keeper of the node at <paramref name="address"/>.</summary>
    public static ActorSelection KeeperAt(ActorSystem system, Address address) =>
        system.ActorSelection(new RootActorPath(address) / "user" / ReplicaLimits.KeeperName);

    /// <summary>
    /// Where the shards of <paramref name="self"/> keep their replicas: the next member after it in
    /// address order (wrapping around) among the members that are Up, reachable and of
    /// <paramref name="role"/> (when given); null when there is no other. Every node computes the same
    /// ring from the same membership, so a membership change moves few replicas.
    /// </summary>
    public static Address? ReplicaNodeOf(Address self, IEnumerable<Member> members, IEnumerable<Member> unreachable, string? role)
    {
        ArgumentNullException.ThrowIfNull(self);
        var gone = unreachable.Select(m => m.Address).ToHashSet();
        var ring = members
            .Where(m => m.Status == MemberStatus.Up && !gone.Contains(m.Address) && (string.IsNullOrEmpty(role) || m.HasRole(role)))
            .Select(m => m.Address)
            .Where(a => !a.Equals(self))
            .ToList();
        if (ring.Count == 0)
        {
            return null;
        }

        ring.Sort(Member.AddressOrdering);
        return ring.FirstOrDefault(a => Member.AddressOrdering.Compare(a, self) > 0) ?? ring[0];
    }

    /// <summary>Where this node's shards keep their replicas now (see <see cref="ReplicaNodeOf(Address, IEnumerable{Member}, IEnumerable{Member}, string?)"/>).</summary>
    public static Address? ReplicaNodeOf(Akka.Cluster.Cluster cluster, string? role)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var state = cluster.State;
        return ReplicaNodeOf(cluster.SelfAddress, state.Members, state.Unreachable, role);
    }
}

/// <summary>Makes the <see cref="ShardReplicas"/> extension of an actor system.</summary>
public sealed class ShardReplicasProvider : ExtensionIdProvider<ShardReplicas>
{
    public override ShardReplicas CreateExtension(ExtendedActorSystem system) => new(system);
}
