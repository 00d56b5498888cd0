using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;

namespace Actors.Conntrack.Handoff;

/// <summary>
/// Sharding's allocation (the default: least shards), told which nodes are leaving. A node that hands
/// its shards off to leave keeps its region (and stays Up) until they are all gone; the default
/// strategy still counts that region, finds it emptiest, and rebalances a shard of the others towards
/// it, which the coordinator then places back where it was: the shard moves for nothing every
/// rebalance tick, and the leaving region never empties while it waits for it. So: no rebalance while
/// a node leaves (as Akka does while one joins), and no shard allocated to a leaving node. A node is
/// leaving once its keeper said so to this node's (<see cref="NodeLeaving"/>), or once its member is
/// Leaving, Exiting or Down.
/// </summary>
public sealed class LeavingAwareAllocationStrategy(IShardAllocationStrategy inner) : IActorSystemDependentAllocationStrategy
{
    private static readonly Task<IImmutableSet<string>> NoRebalance = Task.FromResult<IImmutableSet<string>>(ImmutableHashSet<string>.Empty);
    private ActorSystem? _system;

    public void Start(ActorSystem system)
    {
        _system = system;
        switch (inner)
        {
            case IActorSystemDependentAllocationStrategy dependent:
                dependent.Start(system);
                break;
            case IStartableAllocationStrategy startable:
                startable.Start();
                break;
        }
    }

    public Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations)
    {
        var staying = currentShardAllocations.RemoveRange(currentShardAllocations.Keys.Where(IsLeaving));
        return inner.AllocateShard(requester, shardId, staying.Count > 0 ? staying : currentShardAllocations);
    }

    public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations, IImmutableSet<string> rebalanceInProgress) =>
        currentShardAllocations.Keys.Any(IsLeaving) ? NoRebalance : inner.Rebalance(currentShardAllocations, rebalanceInProgress);

    private bool IsLeaving(IActorRef region)
    {
        if (_system is null)
        {
            return false;
        }

        var cluster = Akka.Cluster.Cluster.Get(_system);
        var address = region.Path.Address.HasLocalScope ? cluster.SelfAddress : region.Path.Address;
        if (ShardHandoff.Get(_system).IsLeaving(address))
        {
            return true;
        }

        var member = cluster.State.Members.FirstOrDefault(m => m.Address.Equals(address));
        return member?.Status is MemberStatus.Leaving or MemberStatus.Exiting or MemberStatus.Down;
    }
}
