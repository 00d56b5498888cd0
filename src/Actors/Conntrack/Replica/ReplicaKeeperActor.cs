using Actors.Conntrack.Handoff;
using Akka.Actor;
using Akka.Event;

namespace Actors.Conntrack.Replica;

/// <summary>
/// One per node (/user/conntrack-replicas): keeps the replicas of conntrack shards whose owners run on
/// other nodes (<see cref="ShardReplica"/>, fed by <see cref="ReplicaChunk"/>s), offers them to a
/// shard's new entity that found no moved table (<see cref="OfferReplica"/>), and streams the one it
/// is asked for (<see cref="ClaimShardState"/>, as a hand-off keeper streams a parked table). A
/// streamed replica is frozen: later chunks of its stream are refused, and it is forgotten once taken
/// or given up. Everything received is checked (size, shard, sequence, each chunk whole): a bad chunk
/// is a counted drop and a request for a new seed, never an exception that would restart the keeper
/// and lose every replica. Counts what it did (<see cref="GetReplicaStatistics"/>).
/// </summary>
public sealed class ReplicaKeeperActor : ReceiveActor
{
    // The most shards datapath.conntrack.shards allows.
    private const int MaxShards = 4096;
    private const string NoReplicaYet = "no replica of this shard here (a seed is due)";

    private readonly Dictionary<int, ShardReplica> _replicas = [];
    private readonly Dictionary<int, TableStream> _promoting = [];
    // A request for a seed that was lost (or an owner that was busy) is made again after this long.
    private static readonly TimeSpan AskAgainAfter = TimeSpan.FromSeconds(5);

    private readonly Dictionary<int, (long Epoch, DateTimeOffset At)> _seedAskedFor = [];
    private readonly Dictionary<int, (IActorRef Owner, long Epoch)> _beforeSettings = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private ConntrackSettings? _settings;
    private long _nextTransfer;
    private long _chunksApplied;
    private long _bytesIn;
    private long _recordsApplied;
    private long _chunksDropped;
    private long _resyncsRequested;
    private long _seedsCompleted;
    private int _promotions;
    private long _connectionsPromoted;
    private int _fallbacks;
    private int _startedEmpty;
    private long _connectionsLost;

    public ReplicaKeeperActor()
    {
        Receive<UseConntrackSettings>(message =>
        {
            _settings = message.Settings;

            // Owners whose chunks came before this node's conntrack started send their seed again.
            foreach (var (shard, (owner, epoch)) in _beforeSettings)
            {
                owner.Tell(new ReplicaResyncNeeded(shard, epoch, "this node's conntrack had not started"));
            }

            _beforeSettings.Clear();
        });
        Receive<ReplicaChunk>(HandleChunk);
        Receive<ForgetReplica>(message => _replicas.Remove(message.Shard));
        Receive<OfferReplica>(HandleOffer);
        Receive<ClaimShardState>(HandleClaim);
        Receive<ShardStateChunkAck>(message =>
        {
            if (_promoting.TryGetValue(message.Shard, out var stream))
            {
                stream.Acknowledged(message.TransferId, message.Sequence);
            }
        });
        Receive<ShardStateAccepted>(message => ForgetPromoted(message.Shard, message.TransferId));
        Receive<ShardStateGivenUp>(message =>
        {
            _log.Error("conntrack shard {0}: {1} could not take its replica ({2})", message.Shard, Sender.Path.Address, message.Reason);
            ForgetPromoted(message.Shard, message.TransferId);
        });
        Receive<ReplicaPromoted>(message =>
        {
            _promotions++;
            _connectionsPromoted += message.Connections;
            _fallbacks += message.AfterFailedHandoff ? 1 : 0;
        });
        Receive<ShardStartedEmpty>(message =>
        {
            _startedEmpty++;
            _connectionsLost += message.ConnectionsLost;
        });
        Receive<GetReplicaStatistics>(_ => Sender.Tell(Statistics()));
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new ReplicaKeeperActor());

    private void HandleChunk(ReplicaChunk chunk)
    {
        var now = Context.System.Scheduler.Now;
        if (_settings is not { } settings)
        {
            // Asked for a seed once the settings come (bounded: at most one owner per shard number a cluster may have).
            _chunksDropped++;
            if ((uint)chunk.Shard < MaxShards)
            {
                _beforeSettings[chunk.Shard] = (Sender, chunk.Epoch);
            }

            return;
        }

        if ((uint)chunk.Shard >= (uint)settings.Shards || chunk.Data is null || chunk.Data.Length > ReplicaLimits.ChunkBytes)
        {
            Drop(chunk, "not a shard of this cluster, or larger than a chunk may be", askSeed: (uint)chunk.Shard < (uint)settings.Shards);
            return;
        }

        if (_promoting.ContainsKey(chunk.Shard))
        {
            Drop(chunk, "its replica is becoming the shard", askSeed: false);
            return;
        }

        if (!_replicas.TryGetValue(chunk.Shard, out var replica))
        {
            if (!chunk.Seed || chunk.Sequence != 0)
            {
                Drop(chunk, NoReplicaYet, askSeed: true);
                return;
            }

            replica = new ShardReplica(chunk.Shard, settings);
            _replicas[chunk.Shard] = replica;
        }

        replica.Source = Sender.Path.Address.HasLocalScope ? "local" : Sender.Path.Address.ToString();
        ReplicaApplied applied;
        try
        {
            applied = replica.Apply(chunk, now);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IndexOutOfRangeException)
        {
            // Applying checks every chunk whole first; should that miss a case, the chunk is a counted drop, not a restart that loses every replica.
            applied = ReplicaApplied.Refused($"{e.GetType().Name}: {e.Message}");
        }

        if (!applied.Ok)
        {
            Drop(chunk, applied.Problem!, applied.AskSeed);
            return;
        }

        _chunksApplied++;
        _bytesIn += chunk.Data.Length;
        _recordsApplied += applied.Records;
        _seedsCompleted += applied.SeedDone ? 1 : 0;
        if (applied.AskSeed)
        {
            AskSeed(chunk, applied.Problem!);
        }
    }

    private void Drop(ReplicaChunk chunk, string problem, bool askSeed)
    {
        _chunksDropped++;
        if (askSeed)
        {
            AskSeed(chunk, problem);
        }
    }

    /// <summary>Asks the shard's owner for a new seed, once per stream (its next chunks would say the same) unless the request seems lost.</summary>
    private void AskSeed(ReplicaChunk chunk, string problem)
    {
        var now = Context.System.Scheduler.Now;
        if (_seedAskedFor.TryGetValue(chunk.Shard, out var asked) && asked.Epoch == chunk.Epoch && now - asked.At < AskAgainAfter)
        {
            return;
        }

        _seedAskedFor[chunk.Shard] = (chunk.Epoch, now);
        _resyncsRequested++;
        if (problem == NoReplicaYet)
        {
            // The usual start of a stream on a node that just joined (the owner's seed began before this keeper could take it): not a fault.
            _log.Info("conntrack shard {0}: replica chunk {1} from {2} refused ({3}); asking for a new seed", chunk.Shard, chunk.Sequence, Sender.Path.Address, problem);
        }
        else
        {
            _log.Warning("conntrack shard {0}: replica chunk {1} from {2} refused ({3}); asking for a new seed", chunk.Shard, chunk.Sequence, Sender.Path.Address, problem);
        }

        Sender.Tell(new ReplicaResyncNeeded(chunk.Shard, chunk.Epoch, problem));
    }

    private void HandleOffer(OfferReplica message)
    {
        var now = Context.System.Scheduler.Now;
        if (_replicas.TryGetValue(message.Shard, out var replica) && replica.Table is { } table)
        {
            Sender.Tell(new ReplicaOffered(message.Shard, replica.Epoch, replica.Complete, table.Count, replica.ClockMs, (long)(now - replica.AppliedAt).TotalMilliseconds));
        }
        else if (_promoting.TryGetValue(message.Shard, out var stream))
        {
            // A claimant that restarted while taking it: it may take it again.
            Sender.Tell(new ReplicaOffered(message.Shard, 0, false, stream.Table.Count, stream.ClockMs, 0));
        }
        else
        {
            Sender.Tell(new ReplicaNotHere(message.Shard));
        }
    }

    /// <summary>A shard's new entity takes the replica it chose: it stops following its owner and goes to the claimant.</summary>
    private void HandleClaim(ClaimShardState message)
    {
        if (!_promoting.TryGetValue(message.Shard, out var stream))
        {
            if (!_replicas.Remove(message.Shard, out var replica) || replica.Table is null)
            {
                Sender.Tell(new ShardStateNotHere(message.Shard));
                return;
            }

            stream = new TableStream(message.Shard, replica.Table, replica.ClockAt(Context.System.Scheduler.Now));
            _promoting[message.Shard] = stream;
        }

        stream.Start(Sender, ++_nextTransfer);
    }

    private void ForgetPromoted(int shard, long transferId)
    {
        if (_promoting.TryGetValue(shard, out var stream) && stream.TransferId == transferId)
        {
            _promoting.Remove(shard);
        }
    }

    private ReplicaStatistics Statistics()
    {
        var now = Context.System.Scheduler.Now;
        var replicas = _replicas.Values
            .OrderBy(r => r.Shard)
            .Select(r => new ReplicaState(r.Shard, r.Source, r.Epoch, r.NextSequence, r.Complete, r.Table?.Count ?? 0, r.ClockMs, (long)(now - r.AppliedAt).TotalMilliseconds))
            .ToArray();
        return new ReplicaStatistics(
            replicas, _chunksApplied, _bytesIn, _recordsApplied, _chunksDropped, _resyncsRequested, _seedsCompleted,
            _promotions, _connectionsPromoted, _fallbacks, _startedEmpty, _connectionsLost);
    }
}
