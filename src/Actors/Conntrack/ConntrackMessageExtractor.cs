using System.Globalization;
using Akka.Cluster.Sharding;

namespace Actors.Conntrack;

/// <summary>
/// Maps conntrack messages to shards and entities for Akka.Cluster.Sharding: one entity per shard,
/// entity id == shard id == the shard number. Reads only <see cref="IConntrackShardMessage.Shard"/>
/// (the sender mapped the symmetric hash with <see cref="ConntrackShards.ShardOf"/>), unwraps
/// <see cref="ConntrackEnvelope"/> and passes <see cref="TrackConnections"/> through as is.
/// </summary>
public sealed class ConntrackMessageExtractor : IMessageExtractor
{
    private readonly string[] _ids;

    public ConntrackMessageExtractor(int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        _ids = new string[shardCount];
        for (int i = 0; i < shardCount; i++)
        {
            _ids[i] = ConntrackShards.EntityId(i);
        }
    }

    public string? EntityId(object message) => message is IConntrackShardMessage m ? IdOf(m.Shard) : null;

    public object? EntityMessage(object message) => message is ConntrackEnvelope envelope ? envelope.Message : message;

    public string? ShardId(object message) => EntityId(message);

    public string ShardId(string entityId, object? messageHint = null) => entityId;

    /// <summary>The cached id of a shard; a shard outside the configured count gets no id, so the region drops the message.</summary>
    private string? IdOf(int shard) => (uint)shard < (uint)_ids.Length ? _ids[shard] : null;

    /// <summary>Parses an entity id back to its shard number.</summary>
    public static int ShardOfEntity(string entityId) => int.Parse(entityId, NumberStyles.None, CultureInfo.InvariantCulture);
}
