using Akka.Actor;
using Datapath.Conntrack;

namespace Actors.Conntrack.Replica;

/// <summary>
/// The owner's side of a shard's replica (conntrackd FT-FW: the backup is fed by the primary's state
/// changes): once per replication interval (<see cref="ReplicateShard"/>) it sends the replica node's
/// keeper what changed in the table since the last interval, one message per 96 KiB of records, never
/// one per packet. A new replica node, a new table (an operator reset), changes that outgrew their
/// bound or a keeper that missed something (<see cref="ReplicaResyncNeeded"/>) start a new stream:
/// a full copy (the seed, paced over intervals), then deltas. With no other node, nothing is tracked.
/// Travels inside its <see cref="ConntrackShard"/> (so whoever owns the shard drives it); a shard
/// rebuilt from a moved table or a replica starts a new one.
/// </summary>
public sealed class ShardReplicator(int shard)
{
    private readonly List<byte[]> _chunks = [];
    private Address? _node;
    private ICanTell? _replica;
    private ConnectionTable? _table;
    private ConnectionTable.ReplicaSeed? _seed;
    private bool _seedDue = true;

    public int Shard { get; } = shard;

    /// <summary>The node the replica is on now; null when there is none.</summary>
    public Address? ReplicaNode => _node;

    /// <summary>The current stream (0 before the first seed).</summary>
    public long Epoch { get; private set; }

    /// <summary>The next chunk's sequence number in the stream.</summary>
    public long Sequence { get; private set; }

    /// <summary>Seeds started.</summary>
    public long Seeds { get; private set; }

    /// <summary>Chunks sent (seed and deltas).</summary>
    public long ChunksSent { get; private set; }

    /// <summary>Bytes of those chunks.</summary>
    public long BytesSent { get; private set; }

    /// <summary>Delta records sent (one per changed connection per interval, one per removal).</summary>
    public long RecordsSent { get; private set; }

    /// <summary>One interval is over: send what changed (or the next part of a seed) to the replica node <paramref name="tick"/> names.</summary>
    public void Tick(ConntrackShard shard, ReplicateShard tick, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(shard);
        ArgumentNullException.ThrowIfNull(tick);
        var table = shard.Table;
        if (!Equals(tick.ReplicaNode, _node))
        {
            // The old replica node drops its copy; the new one gets a full copy.
            _replica?.Tell(new ForgetReplica(Shard), tick.Entity);
            _node = tick.ReplicaNode;
            _seedDue = true;
        }

        _replica = tick.Replica;
        if (_node is null || _replica is null)
        {
            table.StopTrackingChanges();
            _seed = null;
            _table = null;
            return;
        }

        if (_seedDue || !ReferenceEquals(table, _table) || !table.TracksChanges || table.ChangesOverflowed)
        {
            _seedDue = false;
            _table = table;
            Epoch = NewEpoch(Epoch);
            Sequence = 0;
            _seed = table.BeginReplicaSeed();
            Seeds++;
        }

        long clock = shard.NowMs(now);
        if (_seed is not null)
        {
            for (int i = 0; i < ReplicaLimits.SeedChunksPerInterval && _seed.TryNextChunk(ReplicaLimits.ChunkBytes, out var chunk); i++)
            {
                Send(new ReplicaChunk(Shard, Epoch, Sequence++, Seed: true, Last: _seed.Done, clock, chunk), tick.Entity);
            }

            if (!_seed.Done)
            {
                return;
            }

            _seed = null;
        }

        _chunks.Clear();
        RecordsSent += table.DrainChanges(ReplicaLimits.ChunkBytes, _chunks);
        foreach (var chunk in _chunks)
        {
            Send(new ReplicaChunk(Shard, Epoch, Sequence++, Seed: false, Last: false, clock, chunk), tick.Entity);
        }

        _chunks.Clear();
    }

    /// <summary>The keeper refused or missed a chunk of <paramref name="epoch"/>: the next interval starts a new seed (an older stream's complaint changes nothing).</summary>
    public void SeedRequested(long epoch)
    {
        if (epoch == Epoch)
        {
            _seedDue = true;
        }
    }

    private void Send(ReplicaChunk chunk, IActorRef entity)
    {
        _replica!.Tell(chunk, entity);
        ChunksSent++;
        BytesSent += chunk.Data.Length;
    }

    /// <summary>A stream id no other stream of this shard is likely to have had (any owner, any node): random, never the last one or 0.</summary>
    private static long NewEpoch(long previous)
    {
        long epoch;
        do
        {
            epoch = Random.Shared.NextInt64(1, long.MaxValue);
        }
        while (epoch == previous);

        return epoch;
    }
}
