using Actors.Conntrack.Replica;

namespace Actors.Conntrack;

/// <summary>The shard's replica on another node (<see cref="ShardReplicator"/>), driven by whoever owns the shard.</summary>
public sealed partial class ConntrackShard
{
    /// <summary>The owner's side of the replica; null until the first replication interval (and on a standalone node).</summary>
    public ShardReplicator? Replicator { get; private set; }

    private bool HandleReplication(object message, DateTimeOffset now)
    {
        switch (message)
        {
            case ReplicateShard tick:
                (Replicator ??= new ShardReplicator(Id)).Tick(this, tick, now);
                return true;

            case ReplicaResyncNeeded resync:
                Replicator?.SeedRequested(resync.Epoch);
                return true;

            default:
                return false;
        }
    }
}
