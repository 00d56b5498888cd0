using Datapath.Actions;
using Datapath.Conntrack;

namespace Actors.Conntrack;

/// <summary>
/// One PMD batch on its way through the conntrack shards (a plain class, no actor). <see cref="Split"/>
/// groups the batch's inputs by shard into at most one <see cref="TrackConnections"/> per shard,
/// keeping arrival order within each shard (packets of one connection stay in order) and an index
/// map; <see cref="Merge"/> puts each <see cref="ConnectionsTracked"/> reply's results back at
/// their packets' positions, and <see cref="IsComplete"/> says when every shard has answered.
/// Like Open vSwitch's batch stages, it keeps arrival order with an index map. Reusable: a PMD
/// keeps one per outstanding batch. Not thread-safe.
/// </summary>
public sealed class ConntrackBatcher
{
    private readonly int[] _shardFill;
    private readonly int[] _shardStart;
    private readonly int[] _touched;
    private readonly bool[] _answered;
    private int[] _order = new int[32];
    private int[] _shardOfInput = new int[32];
    private ConntrackResult[] _results = new ConntrackResult[32];
    private int _count;
    private int _touchedCount;
    private int _pending;

    public ConntrackBatcher(int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        _shardFill = new int[shardCount];
        _shardStart = new int[shardCount];
        _touched = new int[shardCount];
        _answered = new bool[shardCount];
    }

    public int ShardCount => _shardFill.Length;

    /// <summary>The batch being tracked (the BatchId of its messages).</summary>
    public long BatchId { get; private set; }

    /// <summary>Messages of this batch not answered yet.</summary>
    public int Pending => _pending;

    /// <summary>True when every message of the batch has been answered (and right after splitting an empty batch).</summary>
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
        Reset(inputs.Length);
        BatchId = batchId;

        int shards = _shardFill.Length;
        for (int i = 0; i < inputs.Length; i++)
        {
            int shard = ConntrackShards.ShardOf(inputs[i].ShardHash, shards);
            _shardOfInput[i] = shard;
            if (_shardFill[shard]++ == 0)
            {
                _touched[_touchedCount++] = shard;
            }
        }

        // Counting sort by shard: stable, so each shard keeps arrival order.
        Array.Sort(_touched, 0, _touchedCount);
        int offset = 0;
        for (int t = 0; t < _touchedCount; t++)
        {
            int shard = _touched[t];
            _shardStart[shard] = offset;
            offset += _shardFill[shard];
            _shardFill[shard] = 0;
        }

        for (int i = 0; i < inputs.Length; i++)
        {
            int shard = _shardOfInput[i];
            _order[_shardStart[shard] + _shardFill[shard]++] = i;
        }

        for (int t = 0; t < _touchedCount; t++)
        {
            int shard = _touched[t];
            var part = new ConntrackInput[_shardFill[shard]];
            int start = _shardStart[shard];
            for (int j = 0; j < part.Length; j++)
            {
                part[j] = inputs[_order[start + j]];
            }

            messages.Add(new TrackConnections(shard, batchId, nowMs, args, part));
        }

        _pending = _touchedCount;
        return _touchedCount;
    }

    /// <summary>Takes one shard's answer.</summary>
    /// <returns>True when this reply completed the batch.</returns>
    /// <exception cref="ArgumentException">The reply is not one this batch is waiting for.</exception>
    public bool Merge(ConnectionsTracked reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        int shard = reply.Shard;
        if (reply.BatchId != BatchId || (uint)shard >= (uint)_shardFill.Length || _answered[shard]
            || _shardFill[shard] == 0 || reply.Results.Length != _shardFill[shard])
        {
            throw new ArgumentException($"Reply of shard {shard} for batch {reply.BatchId} does not belong to batch {BatchId}.", nameof(reply));
        }

        _answered[shard] = true;
        int start = _shardStart[shard];
        var results = reply.Results;
        for (int j = 0; j < results.Length; j++)
        {
            _results[_order[start + j]] = results[j];
        }

        return --_pending == 0;
    }

    private void Reset(int count)
    {
        for (int t = 0; t < _touchedCount; t++)
        {
            int shard = _touched[t];
            _shardFill[shard] = 0;
            _answered[shard] = false;
        }

        _touchedCount = 0;
        _pending = 0;
        _count = count;
        if (_order.Length < count)
        {
            _order = new int[count];
            _shardOfInput = new int[count];
            _results = new ConntrackResult[count];
        }
    }
}
