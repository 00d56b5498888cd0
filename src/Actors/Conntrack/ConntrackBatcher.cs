using Datapath.Actions;
using Datapath.Conntrack;

namespace Actors.Conntrack;

/// <summary>
/// One batch on its way through the conntrack shards for a sender that waits for the whole batch
/// (ct-bench; a plain class, no actor). <see cref="Split"/> groups the inputs by shard with the
/// PMD's <see cref="ShardSplitter"/> into at most one <see cref="TrackConnections"/> per shard and
/// answers the invalid ones on the spot, as the PMD does; <see cref="Merge"/> puts each
/// <see cref="ConnectionsTracked"/> reply's results back at their inputs' positions, and
/// <see cref="IsComplete"/> says when every shard has answered. Reusable. Not thread-safe.
/// </summary>
public sealed class ConntrackBatcher
{
    private readonly ShardSplitter _splitter;
    private readonly bool[] _answered;
    private ConntrackResult[] _results = new ConntrackResult[32];
    private int _count;
    private int _pending;

    public ConntrackBatcher(int shardCount)
    {
        _splitter = new ShardSplitter(shardCount);
        _answered = new bool[shardCount];
    }

    public int ShardCount => _splitter.ShardCount;

    /// <summary>The batch being tracked (the BatchId of its messages).</summary>
    public long BatchId { get; private set; }

    /// <summary>Messages of this batch not answered yet.</summary>
    public int Pending => _pending;

    /// <summary>True when every message of the batch has been answered (and right after splitting a batch that needs none).</summary>
    public bool IsComplete => _pending == 0;

    /// <summary>The results in the inputs' order; complete once <see cref="IsComplete"/>.</summary>
    public ReadOnlySpan<ConntrackResult> Results => _results.AsSpan(0, _count);

    /// <summary>
    /// Starts a new batch: appends one <see cref="TrackConnections"/> per shard that owns any of
    /// <paramref name="inputs"/> to <paramref name="messages"/>, in increasing shard order.
    /// </summary>
    /// <returns>The number of messages appended.</returns>
    public int Split(ReadOnlySpan<ConntrackInput> inputs, in ConntrackArgs args, long nowMs, long batchId, List<TrackConnections> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        BatchId = batchId;
        _count = inputs.Length;
        if (_results.Length < inputs.Length)
        {
            _results = new ConntrackResult[inputs.Length];
        }

        Array.Clear(_answered);
        int groups = _splitter.Split(inputs);
        for (int g = 0; g < groups; g++)
        {
            var group = _splitter.Group(g);
            var part = new ConntrackInput[group.Length];
            for (int j = 0; j < part.Length; j++)
            {
                part[j] = inputs[group[j]];
            }

            messages.Add(new TrackConnections(_splitter.ShardOf(g), batchId, nowMs, args, part));
        }

        foreach (int i in _splitter.Invalid)
        {
            _results[i] = ConnectionTable.InvalidResult(args.Zone);
        }

        _pending = groups;
        return groups;
    }

    /// <summary>Takes one shard's answer.</summary>
    /// <returns>True when this reply completed the batch.</returns>
    /// <exception cref="ArgumentException">The reply is not one this batch is waiting for.</exception>
    public bool Merge(ConnectionsTracked reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        int shard = reply.Shard;
        int group = _splitter.GroupOfShard(shard);
        if (reply.BatchId != BatchId || group < 0 || _answered[shard] || reply.Results.Length != _splitter.Group(group).Length)
        {
            throw new ArgumentException($"Reply of shard {shard} for batch {reply.BatchId} does not belong to batch {BatchId}.", nameof(reply));
        }

        _answered[shard] = true;
        var positions = _splitter.Group(group);
        var results = reply.Results;
        for (int j = 0; j < results.Length; j++)
        {
            _results[positions[j]] = results[j];
        }

        return --_pending == 0;
    }
}
