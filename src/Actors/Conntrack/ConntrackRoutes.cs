using Actors.Wire;
using Akka.Actor;

namespace Actors.Conntrack;

/// <summary>
/// Where a sender (a PMD) sends each shard's messages. Through the region by default; with
/// direct routing on, a shard actor's reference is learnt from its first reply (the reply's
/// sender) and later messages go straight to it, which saves the region's hop (see DESIGN.md,
/// "The message budget"). The region keeps ownership: the owner of this object must watch every
/// reference it learns (<see cref="Learn"/> says when) and <see cref="Forget"/> it on
/// Terminated, after which that shard goes through the region again. Messages sent to a shard
/// actor that stopped meanwhile (rebalance, node loss) are lost: the sender's outstanding-batch
/// bookkeeping has to cover that. Not thread-safe: one owner actor.
/// </summary>
public sealed class ConntrackRoutes
{
    private readonly IActorRef _region;
    private readonly IActorRef?[] _direct;
    private readonly bool _learn;

    /// <param name="region">The conntrack region (or a proxy to it).</param>
    /// <param name="shardCount">The configured shard count.</param>
    /// <param name="direct">Learn shard actors' references and send to them directly.</param>
    public ConntrackRoutes(IActorRef region, int shardCount, bool direct)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        _region = region;
        _direct = new IActorRef?[shardCount];
        _learn = direct;
    }

    public int ShardCount => _direct.Length;

    /// <summary>The region (or proxy) every shard can be reached through.</summary>
    public IActorRef Region => _region;

    /// <summary>Sends a batch to its shard.</summary>
    public void Send(TrackConnections message, IActorRef sender)
    {
        ArgumentNullException.ThrowIfNull(message);
        (_direct[message.Shard] ?? _region).Tell(message, sender);
    }

    /// <summary>Sends a shard-wide command to one shard.</summary>
    public void Send(int shard, IWireMessage command, IActorRef sender)
    {
        var direct = _direct[shard];
        if (direct is null)
        {
            _region.Tell(new ConntrackEnvelope(shard, command), sender);
        }
        else
        {
            direct.Tell(command, sender);
        }
    }

    /// <summary>Sends a batch through the region, whatever was learnt (a batch for a shard this node no longer hosts goes back to its owner).</summary>
    public void SendThroughRegion(TrackConnections message, IActorRef sender) => _region.Tell(message, sender);

    /// <summary>Sends a shard-wide command through the region, whatever was learnt.</summary>
    public void SendThroughRegion(int shard, IWireMessage command, IActorRef sender) => _region.Tell(new ConntrackEnvelope(shard, command), sender);

    /// <summary>Records the actor that answered for <paramref name="shard"/>.</summary>
    /// <returns>True when the reference is new: the caller should watch it.</returns>
    public bool Learn(int shard, IActorRef shardActor)
    {
        if (!_learn || (uint)shard >= (uint)_direct.Length || shardActor.IsNobody() || Equals(_direct[shard], shardActor))
        {
            return false;
        }

        _direct[shard] = shardActor;
        return true;
    }

    /// <summary>Drops a reference that terminated; its shard goes through the region again.</summary>
    public void Forget(IActorRef shardActor)
    {
        for (int i = 0; i < _direct.Length; i++)
        {
            if (Equals(_direct[i], shardActor))
            {
                _direct[i] = null;
            }
        }
    }
}
