using Actors.Conntrack;
using Akka.Actor;

namespace Actors.Cluster;

/// <summary>
/// The conntrack region of a standalone node (no cluster): the same shard actors, addressed the
/// same way (<see cref="IConntrackShardMessage.Shard"/>, <see cref="ConntrackEnvelope"/> unwrapped),
/// as children of this actor instead of sharding entities. Sharding's membership, coordinator
/// singleton and hand-over only matter when shards can live on other nodes; without them a node
/// starts and stops at once. A shard starts on its first message and, like a sharding entity,
/// starts again empty on the next one after it stopped; a shard that throws is restarted empty
/// (the default supervision, as under sharding). Messages to a shard outside the configured count
/// are dropped, as the sharding extractor drops them.
/// </summary>
public sealed class LocalConntrackRegion : ReceiveActor
{
    private readonly ConntrackSettings _settings;
    private readonly IActorRef?[] _shards;

    public LocalConntrackRegion(ConntrackSettings settings)
    {
        _settings = settings;
        _shards = new IActorRef?[settings.Shards];
        Receive<ConntrackEnvelope>(m => Route(m.Shard, m.Message));
        Receive<IConntrackShardMessage>(m => Route(m.Shard, m));
        Receive<Terminated>(t => Forget(t.ActorRef));
    }

    public static Props Props(ConntrackSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Akka.Actor.Props.Create(() => new LocalConntrackRegion(settings));
    }

    private void Route(int shard, object message)
    {
        if ((uint)shard >= (uint)_shards.Length)
        {
            Unhandled(message);
            return;
        }

        var actor = _shards[shard];
        if (actor is null)
        {
            actor = Context.ActorOf(ConntrackShardActor.Props(shard, _settings), ConntrackShards.EntityId(shard));
            Context.Watch(actor);
            _shards[shard] = actor;
        }

        actor.Forward(message);
    }

    private void Forget(IActorRef stopped)
    {
        for (int i = 0; i < _shards.Length; i++)
        {
            if (Equals(_shards[i], stopped))
            {
                _shards[i] = null;
            }
        }
    }
}
