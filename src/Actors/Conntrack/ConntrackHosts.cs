using Akka.Actor;

namespace Actors.Conntrack;

/// <summary>
/// Which PMD of this node hosts which conntrack shard: shard s is hosted by PMD s mod P (P PMDs on
/// the node). With the ports' receive hash equal to the shards' (symmetric over the connection tuple)
/// and P dividing both the queue and the shard counts, every packet of a connection reaches the PMD
/// that hosts its shard, so the common case needs no message. Node configuration, set once when the
/// node's PMDs start and read by the shard entities that start on this node: an immutable list
/// replaced whole, never actor state.
/// </summary>
public sealed class ConntrackHosts : IExtension
{
    private IReadOnlyList<IActorRef> _pmds = [];

    public static ConntrackHosts Get(ActorSystem system) => system.WithExtension<ConntrackHosts, ConntrackHostsProvider>();

    /// <summary>The PMDs of this node, in order; the shards' entities find their host through them.</summary>
    public void Register(IReadOnlyList<IActorRef> pmds)
    {
        ArgumentNullException.ThrowIfNull(pmds);
        Volatile.Write(ref _pmds, pmds.ToArray());
    }

    /// <summary>The PMD of this node that hosts <paramref name="shard"/>, or null when the node has no PMD.</summary>
    public IActorRef? HostOf(int shard)
    {
        var pmds = Volatile.Read(ref _pmds);
        return pmds.Count == 0 || shard < 0 ? null : pmds[shard % pmds.Count];
    }

    /// <summary>The index of the PMD that hosts <paramref name="shard"/> among <paramref name="pmdCount"/> PMDs.</summary>
    public static int HostIndex(int shard, int pmdCount) => shard % pmdCount;
}

/// <summary>Makes the <see cref="ConntrackHosts"/> extension of an actor system.</summary>
public sealed class ConntrackHostsProvider : ExtensionIdProvider<ConntrackHosts>
{
    public override ConntrackHosts CreateExtension(ExtendedActorSystem system) => new();
}
