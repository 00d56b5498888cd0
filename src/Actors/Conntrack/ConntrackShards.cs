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

    /// <summary>The sharding entity (and shard) id of shard <paramref name="shard"/>.</summary>
    public static string EntityId(int shard) => shard.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
