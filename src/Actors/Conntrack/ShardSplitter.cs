using Datapath.Conntrack;

namespace Actors.Conntrack;

/// <summary>
/// Groups one batch's conntrack inputs by the shard that owns each connection
/// (<see cref="ConntrackShards.ShardOf"/>), so a batch costs one message per shard it touches, never
/// one per packet: a stable counting sort into an index map, shards in increasing order, arrival
/// order kept within each (the packets of one connection stay in order), as Open vSwitch's batch
/// stages keep order with index maps. Inputs conntrack would call invalid anyway (not parseable)
/// belong to no shard: they are listed apart, for the caller to answer on the spot. The one split
/// of the PMD (<c>ShardConntrackStage</c>) and of ct-bench (<see cref="ConntrackBatcher"/>), so the
/// benchmark measures what the PMD runs. Reusable and allocation-free; the spans it returns hold
/// until the next <see cref="Split"/>. Not thread-safe.
/// </summary>
public sealed class ShardSplitter
{
    private readonly int[] _shardCount;
    private readonly int[] _shardStart;
    private readonly int[] _groupOfShard;
    private readonly int[] _touched;
    private readonly ulong _modMultiplier;
    private int[] _order = new int[Datapath.Packets.PacketBatch.MaxSize];
    private int[] _shardOfInput = new int[Datapath.Packets.PacketBatch.MaxSize];
    private int[] _invalid = new int[Datapath.Packets.PacketBatch.MaxSize];
    private int _touchedCount;
    private int _invalidCount;

    public ShardSplitter(int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        _shardCount = new int[shardCount];
        _shardStart = new int[shardCount];
        _groupOfShard = new int[shardCount];
        _touched = new int[shardCount];
        _modMultiplier = ConntrackShards.ModMultiplier(shardCount);
        Array.Fill(_groupOfShard, -1);
    }

    public int ShardCount => _shardCount.Length;

    /// <summary>Groups of the last split: one per shard touched, in increasing shard order.</summary>
    public int GroupCount => _touchedCount;

    /// <summary>Positions of the last split's inputs that belong to no shard (invalid), in arrival order.</summary>
    public ReadOnlySpan<int> Invalid => _invalid.AsSpan(0, _invalidCount);

    /// <summary>Splits <paramref name="inputs"/>; returns the number of groups (shards touched).</summary>
    public int Split(ReadOnlySpan<ConntrackInput> inputs)
    {
        Reset(inputs.Length);
        int shards = _shardCount.Length;
        if (shards == 1)
        {
            return SplitOne(inputs);
        }

        for (int i = 0; i < inputs.Length; i++)
        {
            if (!inputs[i].IsValid)
            {
                _shardOfInput[i] = -1;
                _invalid[_invalidCount++] = i;
                continue;
            }

            int shard = ConntrackShards.ShardOf(inputs[i].RoutingHash, shards, _modMultiplier);
            _shardOfInput[i] = shard;
            if (_shardCount[shard]++ == 0)
            {
                _touched[_touchedCount++] = shard;
            }
        }

        Array.Sort(_touched, 0, _touchedCount);
        int offset = 0;
        for (int g = 0; g < _touchedCount; g++)
        {
            int shard = _touched[g];
            _groupOfShard[shard] = g;
            _shardStart[shard] = offset;
            offset += _shardCount[shard];
        }

        Span<int> fill = stackalloc int[_touchedCount];
        for (int i = 0; i < inputs.Length; i++)
        {
            int shard = _shardOfInput[i];
            if (shard >= 0)
            {
                int g = _groupOfShard[shard];
                _order[_shardStart[shard] + fill[g]++] = i;
            }
        }

        return _touchedCount;
    }

    /// <summary>
    /// One shard (one per PMD, the default, on a one-PMD node): every valid input is in group 0 in
    /// arrival order, so no shard is computed and nothing sorted (the general split was 3 % of a
    /// one-core run's time).
    /// </summary>
    private int SplitOne(ReadOnlySpan<ConntrackInput> inputs)
    {
        int valid = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i].IsValid)
            {
                _order[valid++] = i;
            }
            else
            {
                _invalid[_invalidCount++] = i;
            }
        }

        if (valid == 0)
        {
            return 0;
        }

        _shardCount[0] = valid;
        _shardStart[0] = 0;
        _groupOfShard[0] = 0;
        _touched[0] = 0;
        _touchedCount = 1;
        return 1;
    }

    /// <summary>The shard of group <paramref name="group"/>.</summary>
    public int ShardOf(int group) => _touched[CheckGroup(group)];

    /// <summary>The input positions of group <paramref name="group"/>, in arrival order.</summary>
    public ReadOnlySpan<int> Group(int group)
    {
        int shard = _touched[CheckGroup(group)];
        return _order.AsSpan(_shardStart[shard], _shardCount[shard]);
    }

    /// <summary>The group of <paramref name="shard"/> in the last split, or -1 when it was not touched.</summary>
    public int GroupOfShard(int shard) => (uint)shard < (uint)_groupOfShard.Length ? _groupOfShard[shard] : -1;

    private int CheckGroup(int group)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)group, (uint)_touchedCount, nameof(group));
        return group;
    }

    private void Reset(int count)
    {
        for (int g = 0; g < _touchedCount; g++)
        {
            int shard = _touched[g];
            _shardCount[shard] = 0;
            _groupOfShard[shard] = -1;
        }

        _touchedCount = 0;
        _invalidCount = 0;
        if (_order.Length < count)
        {
            _order = new int[count];
            _shardOfInput = new int[count];
            _invalid = new int[count];
        }
    }
}
