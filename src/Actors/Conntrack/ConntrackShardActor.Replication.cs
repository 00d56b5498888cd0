using Actors.Conntrack.Handoff;
using Actors.Conntrack.Replica;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;

namespace Actors.Conntrack;

/// <summary>
/// The shard's replica (src/Actors/Conntrack/Replica): once per replication interval the entity tells
/// whoever owns its <see cref="ConntrackShard"/> (itself, or the PMD hosting it) where the replica
/// lives now, and the owner sends what changed. A new entity that found no moved table on any node (its
/// node died) or could not take the one it found asks every node's replica keeper for a replica, takes
/// the best one offered (complete first, then the latest), and starts from it; only when there is none
/// does it start empty, said in the log and counted when a table was known to be lost.
/// </summary>
public sealed partial class ConntrackShardActor
{
    private const string ReplicateTimer = "replicate";

    private bool _replicaPhase;
    private bool _afterFailedHandoff;
    private bool _othersForgotten;
    private int _lostExpected;
    private ReplicaOffered? _bestOffer;
    private IActorRef? _replicaSource;
    private string? _role;

    private bool IsClusterNode => Context.System is ExtendedActorSystem { Provider: Akka.Cluster.IClusterActorRefProvider };

    /// <summary>Starts the replication interval (a cluster node with replication on, once the shard's table is here).</summary>
    private void StartReplicating()
    {
        if (_settings.Replication is { } interval && IsClusterNode)
        {
            _role ??= ClusterShardingSettings.Create(Context.System).Role ?? "";
            Timers.StartPeriodicTimer(ReplicateTimer, ReplicateTick.Instance, interval);
        }
    }

    /// <summary>One interval is over: the owner of the shard's state sends what changed to the replica node of now.</summary>
    private void HandleReplicateTick()
    {
        if (_state is not null)
        {
            Replicate(_state);
        }
        else if (_host is not null)
        {
            _host.Tell(new ForShard(_shard, ReplicateNow()), Self);
        }
    }

    /// <summary>Runs one interval on <paramref name="state"/> here (the entity owns it).</summary>
    private void Replicate(ConntrackShard state)
    {
        if (_settings.Replication is not null && IsClusterNode)
        {
            state.Handle(ReplicateNow(), Self, _scheduler.Now);
        }
    }

    private ReplicateShard ReplicateNow()
    {
        var system = Context.System;
        var node = ShardReplicas.ReplicaNodeOf(Akka.Cluster.Cluster.Get(system), _role);
        if (!_othersForgotten)
        {
            // This entity owns the shard now: replicas kept for its earlier owners (here, or on nodes
            // other than its own replica node) would only mislead a later claim.
            _othersForgotten = true;
            foreach (var member in ShardHandoff.Members(system).Where(m => !m.Equals(node)))
            {
                ShardReplicas.KeeperAt(system, member).Tell(new ForgetReplica(_shard), Self);
            }
        }

        return new ReplicateShard(node is null ? null : ShardReplicas.KeeperAt(system, node), node, Self);
    }

    /// <summary>
    /// No table to take (none parked anywhere, or the one found could not be taken, with
    /// <paramref name="lost"/> connections): ask every node's replica keeper for the shard's replica.
    /// </summary>
    private void ClaimReplicaOrStartEmpty(int lost)
    {
        if (_replicaPhase)
        {
            StartEmpty(lost);
            return;
        }

        _replicaPhase = true;
        _lostExpected = lost;
        _attempts = 0;
        _transferId = -1;
        _chunks = 0;
        _bytes = 0;
        _chunksRejected = 0;
        _bestOffer = null;
        _replicaSource = null;
        _unanswered.Clear();
        foreach (var member in ShardHandoff.Members(Context.System))
        {
            _unanswered.Add(member);
            ShardReplicas.KeeperAt(Context.System, member).Tell(new OfferReplica(_shard), Self);
        }

        Timers.StartSingleTimer(ClaimTimer, ClaimOverdue.Instance, HandoffLimits.ClaimPatience);
        Become(ClaimingReplica);
    }

    /// <summary>Waiting for every replica keeper's offer.</summary>
    private void ClaimingReplica()
    {
        Receive<ReplicaOffered>(offer =>
        {
            Answered();
            if (offer.Shard == _shard && IsBetter(offer, _bestOffer))
            {
                _bestOffer = offer;
                _replicaSource = Sender;
            }

            if (_unanswered.Count == 0)
            {
                TakeBestReplica();
            }
        });
        Receive<ReplicaNotHere>(_ =>
        {
            Answered();
            if (_unanswered.Count == 0)
            {
                TakeBestReplica();
            }
        });
        Receive<ClaimOverdue>(_ =>
        {
            if (!PruneUnanswered())
            {
                TakeBestReplica();
                return;
            }

            foreach (var member in _unanswered)
            {
                ShardReplicas.KeeperAt(Context.System, member).Tell(new OfferReplica(_shard), Self);
            }

            Timers.StartSingleTimer(ClaimTimer, ClaimOverdue.Instance, HandoffLimits.ClaimPatience);
        });

        // Late answers of the hand-off given up.
        Receive<ShardStateNotHere>(_ => { });
        Receive<ShardStateChunk>(_ => { });
        ReceiveAny(_ => Stash.Stash());
    }

    /// <summary>Every keeper answered (or is gone): take the best replica offered, or start empty.</summary>
    private void TakeBestReplica()
    {
        Timers.Cancel(ClaimTimer);
        if (_bestOffer is null || _replicaSource is null)
        {
            StartEmpty(_lostExpected);
            return;
        }

        _source = _replicaSource;
        _replicaSource.Tell(new ClaimShardState(_shard));
        Timers.StartSingleTimer(ClaimTimer, ClaimOverdue.Instance, HandoffLimits.ChunkPatience);
        Become(Receiving);
    }

    /// <summary>A complete replica before an incomplete one, then the one that heard from its owner last.</summary>
    private static bool IsBetter(ReplicaOffered offer, ReplicaOffered? best) =>
        best is null
        || (offer.Complete && !best.Complete)
        || (offer.Complete == best.Complete && (offer.ClockMs > best.ClockMs || (offer.ClockMs == best.ClockMs && offer.AgeMs < best.AgeMs)));

    /// <summary>The shard runs a replica now: said in the log (how old it may be) and counted by this node's keeper.</summary>
    private void Promoted(int connections)
    {
        var offer = _bestOffer!;
        string why = _afterFailedHandoff ? "its moved table could not be taken" : "no node had its table (its node is gone)";
        string where = _replicaSource!.Path.Address.HasLocalScope ? "this node" : _replicaSource.Path.Address.ToString();
        string complete = offer.Complete ? "" : ", incomplete: it missed some of its owner's changes";
        Context.GetLogger().Warning(
            $"conntrack shard {_shard}: {why}; started from its replica on {where} ({connections} connections{complete}; " +
            $"its owner's last changes reached it {offer.AgeMs} ms before it was offered, any made since are lost)");
        ShardReplicas.Get(Context.System).Keeper.Tell(new ReplicaPromoted(_shard, connections, _afterFailedHandoff));
    }

    /// <summary>Neither a table nor a replica: the shard starts empty; a table known to be lost is said in the log and counted.</summary>
    private void StartEmpty(int lost)
    {
        if (lost > 0 || _afterFailedHandoff)
        {
            Context.GetLogger().Error("conntrack shard {0}: neither its table nor a replica of it could be taken; {1} connections lost, the shard starts empty", _shard, lost);
            ShardHandoff.Get(Context.System).Keeper.Tell(new ShardStateArrived(_shard, 0, _bytes, 0, _chunksRejected, lost, ClaimMs()));
            ShardReplicas.Get(Context.System).Keeper.Tell(new ShardStartedEmpty(_shard, lost));
        }

        FinishClaim(null);
    }

    /// <summary>The replication interval's tick; local to the actor.</summary>
    private sealed class ReplicateTick : INoSerializationVerificationNeeded
    {
        public static readonly ReplicateTick Instance = new();
    }
}
