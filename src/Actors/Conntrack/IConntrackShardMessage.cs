using Actors.Wire;

namespace Actors.Conntrack;

/// <summary>
/// A message addressed to one conntrack shard. The sharding message extractor reads only
/// <see cref="Shard"/>: the sender has already mapped the connection hash to a shard
/// (<see cref="ConntrackShards.ShardOf"/>).
/// </summary>
public interface IConntrackShardMessage : IWireMessage
{
    int Shard { get; }
}
