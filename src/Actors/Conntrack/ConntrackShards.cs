using System.Runtime.CompilerServices;

namespace Actors.Conntrack;

/// <summary>Which shard owns a connection: the one rule every node and every PMD must agree on.</summary>
public static class ConntrackShards
{
    /// <summary>
    /// The shard of a connection whose symmetric hash (<c>ConntrackInput.ShardHash</c>) is
    /// <paramref name="hash"/>: hash mod <paramref name="shardCount"/>. Both directions of a
    /// connection, and ICMP errors about it, have the same hash and so the same shard.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ShardOf(uint hash, int shardCount) => (int)(hash % (uint)shardCount);

    /// <summary>
    /// <see cref="ShardOf(uint, int)"/> without a division, with the multiplier of
    /// <see cref="ModMultiplier"/>: the split runs it for every packet, and a 32-bit division costs
    /// tens of cycles where two multiplies cost a few (Lemire's fastmod, exact for every 32-bit hash).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ShardOf(uint hash, int shardCount, ulong modMultiplier) =>
        (int)(((((modMultiplier * hash) >> 32) + 1) * (uint)shardCount) >> 32);

    /// <summary>The multiplier <see cref="ShardOf(uint, int, ulong)"/> takes for <paramref name="shardCount"/> shards.</summary>
    public static ulong ModMultiplier(int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        return (ulong.MaxValue / (uint)shardCount) + 1;
    }

    /// <summary>The sharding entity (and shard) id of shard <paramref name="shard"/>.</summary>
    public static string EntityId(int shard) => shard.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
