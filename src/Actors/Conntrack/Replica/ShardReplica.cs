using Datapath.Conntrack;

namespace Actors.Conntrack.Replica;

/// <summary>
/// The replica of one conntrack shard that a keeper holds for the shard's owner on another node: a
/// table built from a seed (a full copy, chunk by chunk) and kept up with the owner's deltas, applied
/// in sequence. A seed in progress builds a new table beside the complete one, which it replaces
/// only once whole. A chunk that is damaged, not the shard's, or out of sequence is refused (nothing
/// of it applied) and the owner is asked for a new seed; a delta after a gap still applies (the
/// replica is closer, though no longer complete). A plain class owned by the keeper.
/// </summary>
public sealed class ShardReplica
{
    private readonly ConntrackSettings _settings;
    private ConnectionTable? _building;
    private long _buildingEpoch;
    private long _buildingNext;

    public ShardReplica(int shard, ConntrackSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Shard = shard;
        _settings = settings;
    }

    public int Shard { get; }

    /// <summary>The complete (or once complete) replica; null until a seed's last chunk.</summary>
    public ConnectionTable? Table { get; private set; }

    /// <summary>The stream <see cref="Table"/> follows.</summary>
    public long Epoch { get; private set; }

    /// <summary>The next chunk of <see cref="Epoch"/> expected.</summary>
    public long NextSequence { get; private set; }

    /// <summary>A seed and every delta since, none refused or missed.</summary>
    public bool Complete { get; private set; }

    /// <summary>The owner's clock at the last chunk applied.</summary>
    public long ClockMs { get; private set; }

    /// <summary>When the last chunk was applied.</summary>
    public DateTimeOffset AppliedAt { get; private set; }

    /// <summary>The owner's node, as the last chunk said.</summary>
    public string Source { get; set; } = "";

    /// <summary>Applies one chunk (see the class summary).</summary>
    public ReplicaApplied Apply(ReplicaChunk chunk, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        return chunk.Seed ? ApplySeed(chunk, now) : ApplyDelta(chunk, now);
    }

    /// <summary>The owner's clock now, as the replica's table should run on it when it becomes the shard (a replay's frame clock does not move by itself).</summary>
    public long ClockAt(DateTimeOffset now) =>
        _settings.FrameClock ? ClockMs : ClockMs + Math.Max(0, (long)(now - AppliedAt).TotalMilliseconds);

    private ReplicaApplied ApplySeed(ReplicaChunk chunk, DateTimeOffset now)
    {
        if (chunk.Sequence == 0)
        {
            _building = new ConnectionTable(_settings.ShardOptions());
            _buildingEpoch = chunk.Epoch;
            _buildingNext = 0;
        }

        if (_building is null || chunk.Epoch != _buildingEpoch || chunk.Sequence != _buildingNext)
        {
            return ReplicaApplied.Refused($"seed chunk {chunk.Sequence} of stream {chunk.Epoch} came out of order");
        }

        var result = _building.ApplyReplica(chunk.Data, Belongs, chunk.ClockMs);
        if (!result.Ok)
        {
            _building = null;
            return ReplicaApplied.Refused($"seed chunk {chunk.Sequence}: {result.Error}");
        }

        _buildingNext++;
        Touch(chunk, now);
        if (chunk.Last)
        {
            Table = _building;
            Epoch = _buildingEpoch;
            NextSequence = _buildingNext;
            Complete = true;
            _building = null;
        }

        return ReplicaApplied.Applied(result.Connections + result.Reservations, seedDone: chunk.Last);
    }

    private ReplicaApplied ApplyDelta(ReplicaChunk chunk, DateTimeOffset now)
    {
        if (Table is null || chunk.Epoch != Epoch)
        {
            return ReplicaApplied.Refused($"a delta of stream {chunk.Epoch}, whose seed this replica does not have");
        }

        if (chunk.Sequence == long.MaxValue)
        {
            // The sequence after it would wrap to the most negative, and every later delta would look due.
            return ReplicaApplied.Refused($"delta {chunk.Sequence}: sequence out of range");
        }

        if (chunk.Sequence < NextSequence)
        {
            return ReplicaApplied.Refused($"delta {chunk.Sequence} came again (or late): {NextSequence} was due", askSeed: false);
        }

        var result = Table.ApplyReplica(chunk.Data, Belongs, chunk.ClockMs);
        if (!result.Ok)
        {
            Complete = false;
            return ReplicaApplied.Refused($"delta {chunk.Sequence}: {result.Error}");
        }

        bool gap = chunk.Sequence != NextSequence;
        long due = NextSequence;
        NextSequence = chunk.Sequence + 1;
        Touch(chunk, now);
        if (gap)
        {
            Complete = false;
            return ReplicaApplied.Applied(result.Connections + result.Reservations, gap: $"delta {chunk.Sequence} came where {due} was due");
        }

        return ReplicaApplied.Applied(result.Connections + result.Reservations);
    }

    private void Touch(ReplicaChunk chunk, DateTimeOffset now)
    {
        ClockMs = Math.Max(ClockMs, chunk.ClockMs);
        AppliedAt = now;
    }

    private bool Belongs(uint hash) => ConntrackShards.ShardOf(hash, _settings.Shards) == Shard;
}

/// <summary>What <see cref="ShardReplica.Apply"/> did: applied (<see cref="Records"/>), or refused (<see cref="Problem"/>), and whether the owner must send a new seed.</summary>
public readonly record struct ReplicaApplied(bool Ok, int Records, bool SeedDone, string? Problem, bool AskSeed)
{
    public static ReplicaApplied Applied(int records, bool seedDone = false, string? gap = null) => new(true, records, seedDone, gap, gap is not null);

    public static ReplicaApplied Refused(string problem, bool askSeed = true) => new(false, 0, false, problem, askSeed);
}
