using Actors.Conntrack.Handoff;
using Akka.Actor;
using Akka.Event;

namespace Actors.Conntrack;

/// <summary>
/// The shard's moves between nodes (<see cref="Handoff.HandoffMessages"/>): a new entity claims its table
/// from every node's keeper before it answers anything, and an entity that sharding stops
/// (<see cref="HandOffShard"/>) takes its table back from its host and parks it with its node's keeper.
/// Meanwhile the shard's messages wait (stash) and are answered by the owner that has the table,
/// never from an empty one; a table that cannot be taken is retried, then the shard falls back to its
/// replica (<see cref="ClaimReplicaOrStartEmpty"/>), and starts empty only when there is none, loudly
/// (log and counters), never silently.
/// </summary>
public sealed partial class ConntrackShardActor
{
    private const string ClaimTimer = "claim";

    private readonly HashSet<Address> _unanswered = [];
    private ConntrackShard? _incoming;
    private IActorRef? _source;
    private long _transferId = -1;
    private int _nextChunk;
    private int _attempts;
    private int _chunksRejected;
    private int _chunks;
    private long _bytes;
    private int _expected;
    private long _claimedAt;

    /// <summary>Asks every node's keeper for this shard's table; false when there is no cluster to ask.</summary>
    private bool BeginClaim()
    {
        if (Context.System is not ExtendedActorSystem { Provider: Akka.Cluster.IClusterActorRefProvider })
        {
            return false;
        }

        ShardHandoff.Get(Context.System);
        Replica.ShardReplicas.Get(Context.System);
        _claimedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        foreach (var member in ShardHandoff.Members(Context.System))
        {
            _unanswered.Add(member);
            ShardHandoff.KeeperAt(Context.System, member).Tell(new ClaimShardState(_shard), Self);
        }

        Timers.StartSingleTimer(ClaimTimer, ClaimOverdue.Instance, HandoffLimits.ClaimPatience);
        Become(Claiming);
        return true;
    }

    /// <summary>Waiting for every keeper's answer, or for a table's first chunk.</summary>
    private void Claiming()
    {
        Receive<ShardStateNotHere>(_ =>
        {
            Answered();
            if (_unanswered.Count == 0)
            {
                ClaimReplicaOrStartEmpty(0);
            }
        });
        Receive<ShardStateChunk>(chunk =>
        {
            // Only a transfer's first chunk starts taking a table. Any other (a late one, or one naming
            // no transfer) is ignored, as Receiving ignores it: taken for a start, it left Receiving with
            // no source to ask again, and the claim ended in a NullReferenceException.
            if (!StartsTransfer(chunk))
            {
                return;
            }

            Become(Receiving);
            HandleChunk(chunk);
        });
        Receive<ClaimOverdue>(_ =>
        {
            // A slow keeper may hold the table: ask again while its node is a member (not one that left or is unreachable).
            if (!PruneUnanswered())
            {
                Context.GetLogger().Warning("conntrack shard {0}: the nodes that did not answer its claim are gone; looking for its replica", _shard);
                ClaimReplicaOrStartEmpty(0);
                return;
            }

            Context.GetLogger().Warning("conntrack shard {0}: no answer yet from the keepers of {1}; asking again", _shard, string.Join(", ", _unanswered));
            foreach (var member in _unanswered)
            {
                ShardHandoff.KeeperAt(Context.System, member).Tell(new ClaimShardState(_shard), Self);
            }

            Timers.StartSingleTimer(ClaimTimer, ClaimOverdue.Instance, HandoffLimits.ClaimPatience);
        });
        ReceiveAny(_ => Stash.Stash());
    }

    /// <summary>Taking a table chunk by chunk.</summary>
    private void Receiving()
    {
        Receive<ShardStateChunk>(HandleChunk);
        Receive<ShardStateNotHere>(_ => { });
        Receive<ClaimOverdue>(_ => Reject($"no chunk {_nextChunk} within {HandoffLimits.ChunkPatience}"));
        ReceiveAny(_ => Stash.Stash());
    }

    private void HandleChunk(ShardStateChunk chunk)
    {
        if (_replicaPhase && !Sender.Equals(_replicaSource))
        {
            // A late chunk of the hand-off given up: the replica chosen is the only source now.
            return;
        }

        if (StartsTransfer(chunk))
        {
            // A transfer starts, or starts over (after a retry, or because a claim asked again reached the keeper).
            _transferId = chunk.TransferId;
            _source = Sender;
            _nextChunk = 0;
            _expected = chunk.Connections;
            _incoming = ConntrackShard.Continuing(_shard, _settings, _scheduler.Now, chunk.ClockMs);
        }

        // _incoming is null between transfers (none yet, or one rejected): a chunk naming the
        // "no transfer" id (-1) there has no table to go into.
        if (chunk.TransferId != _transferId || chunk.Shard != _shard || _incoming is null)
        {
            return;
        }

        if (chunk.Sequence != _nextChunk)
        {
            Reject($"chunk {chunk.Sequence} came where {_nextChunk} was due");
            return;
        }

        int shards = _settings.Shards;
        var result = _incoming.Table.Import(chunk.Data, hash => ConntrackShards.ShardOf(hash, shards) == _shard, chunk.ClockMs);
        if (!result.Ok)
        {
            Reject($"chunk {chunk.Sequence}: {result.Error}");
            return;
        }

        _nextChunk++;
        _chunks++;
        _bytes += chunk.Data.Length;
        Timers.StartSingleTimer(ClaimTimer, ClaimOverdue.Instance, HandoffLimits.ChunkPatience);
        _source!.Tell(new ShardStateChunkAck(_shard, _transferId, chunk.Sequence));
        if (chunk.Last)
        {
            _source.Tell(new ShardStateAccepted(_shard, _transferId, _incoming.Table.Count));
            if (_replicaPhase)
            {
                Promoted(_incoming.Table.Count);
            }
            else
            {
                ShardHandoff.Get(Context.System).Keeper.Tell(new ShardStateArrived(_shard, _incoming.Table.Count, _bytes, _chunks, _chunksRejected, 0, ClaimMs()));
            }

            FinishClaim(_incoming);
        }
    }

    /// <summary>The first chunk of a transfer other than the current one (keepers number transfers from 1; -1 is "none").</summary>
    private bool StartsTransfer(ShardStateChunk chunk) => chunk.Sequence == 0 && chunk.TransferId != _transferId && chunk.TransferId > 0;

    /// <summary>
    /// A chunk that could not be taken (or never came): counted; the table is asked for again, and
    /// given up after <see cref="HandoffLimits.Attempts"/>: a moved table for the shard's replica, a
    /// replica for an empty start.
    /// </summary>
    private void Reject(string reason)
    {
        _chunksRejected++;
        _attempts++;
        var log = Context.GetLogger();
        var source = _source!;
        long transfer = _transferId;
        _transferId = -1;
        _incoming = null;
        if (_attempts < HandoffLimits.Attempts)
        {
            log.Warning("conntrack shard {0}: table hand-off from {1} failed ({2}); asking again", _shard, source.Path.Address, reason);
            Timers.StartSingleTimer(ClaimTimer, ClaimOverdue.Instance, HandoffLimits.ChunkPatience);
            source.Tell(new ClaimShardState(_shard));
            return;
        }

        source.Tell(new ShardStateGivenUp(_shard, transfer, reason));
        if (!_replicaPhase)
        {
            log.Error("conntrack shard {0}: table hand-off from {1} failed {2} times ({3}); falling back to its replica", _shard, source.Path.Address, _attempts, reason);
            ShardHandoff.Get(Context.System).Keeper.Tell(new ShardStateArrived(_shard, 0, _bytes, 0, _chunksRejected, 0, ClaimMs()));
            _afterFailedHandoff = true;
            ClaimReplicaOrStartEmpty(_expected);
            return;
        }

        log.Error("conntrack shard {0}: taking its replica from {1} failed {2} times ({3})", _shard, source.Path.Address, _attempts, reason);
        StartEmpty(Math.Max(_expected, _lostExpected));
    }

    private long ClaimMs() => (long)System.Diagnostics.Stopwatch.GetElapsedTime(_claimedAt).TotalMilliseconds;

    /// <summary>The claim is over: run the table that came (or an empty one when no node had one), then what waited.</summary>
    private void FinishClaim(ConntrackShard? table)
    {
        Timers.Cancel(ClaimTimer);
        _unanswered.Clear();
        _incoming = null;
        _source = null;
        _replicaSource = null;
        _bestOffer = null;
        if (table is not null)
        {
            _state = table;
        }

        Become(Running);
        if (!TryLend())
        {
            ScheduleSweep();
        }

        StartReplicating();
        Stash.UnstashAll();
    }

    /// <summary>A keeper answered the claim (or the replica claim).</summary>
    private void Answered() =>
        _unanswered.Remove(Sender.Path.Address.HasLocalScope ? Akka.Cluster.Cluster.Get(Context.System).SelfAddress : Sender.Path.Address);

    /// <summary>Forgets the silent nodes that left or are unreachable; false when none is left to wait for.</summary>
    private bool PruneUnanswered()
    {
        var members = ShardHandoff.Members(Context.System).ToHashSet();
        var unreachable = Akka.Cluster.Cluster.Get(Context.System).State.Unreachable.Select(m => m.Address).ToHashSet();
        _unanswered.RemoveWhere(address => !members.Contains(address) || unreachable.Contains(address));
        return _unanswered.Count > 0;
    }

    /// <summary>Sharding stops this entity to move the shard: park the table with this node's keeper, hand what waits over, stop.</summary>
    private void ParkAndStop()
    {
        var state = _state!;
        _state = null;
        Timers.CancelAll();

        // The replica gets the last changes, should the table not reach the new owner.
        Replicate(state);

        // Bypass watches name this node's PMDs: their holders drop those flows now.
        state.Table.RevokeAllBypassWatches();
        state.DeliverNotices(null, null);
        var waiting = Stash.ClearStash().Select(envelope => (envelope.Message, envelope.Sender)).ToList();
        ShardHandoff.Get(Context.System).Keeper.Tell(new ParkShard(state, waiting));
        Context.Stop(Self);
    }

    /// <summary>Lent when sharding stops the entity: the host gives the table back first.</summary>
    private void TakeBackForHandOff()
    {
        _host!.Tell(new ReleaseShard(_shard));
        Become(ReturningForHandOff);
    }

    private void ReturningForHandOff()
    {
        Receive<ShardReturned>(message =>
        {
            Context.Unwatch(_host!);
            _host = null;
            Timers.Cancel(ReturnTimer);
            _state = message.Shard;
            ParkAndStop();
        });
        Receive<Terminated>(t =>
        {
            if (t.ActorRef.Equals(_host))
            {
                Timers.StartSingleTimer(ReturnTimer, ReturnOverdue.Instance, ReturnPatience);
            }
        });
        Receive<ReturnOverdue>(_ =>
        {
            Context.GetLogger().Error("conntrack shard {0}: its host stopped without giving the table back; the shard moves empty", _shard);
            _host = null;
            _state = new ConntrackShard(_shard, _settings, _scheduler.Now);
            ParkAndStop();
        });
        Receive<ReplicateTick>(_ => { });
        ReceiveAny(_ => Stash.Stash());
    }

    /// <summary>The claim's (or a chunk's) patience ran out.</summary>
    private sealed class ClaimOverdue : INoSerializationVerificationNeeded
    {
        public static readonly ClaimOverdue Instance = new();
    }
}
