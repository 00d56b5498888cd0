using Actors.Conntrack;
using Akka.Actor;

namespace Actors.Pmd;

/// <summary>
/// The conntrack shards a PMD hosts on its own thread, lent by their entities (DESIGN.md, "Where a
/// shard lives"): the PMD tracks its own packets of them with no message, and answers the messages
/// their entities forward. A shard just lent is <em>pending</em> until nothing the PMD sent it by
/// message is still unanswered, so a packet tracked in place never overtakes an earlier packet of
/// its connection that is still on its way through the entity. A plain class owned by the PMD actor.
/// </summary>
internal sealed class HostedShards(int shardCount)
{
    private readonly ConntrackShard?[] _shards = new ConntrackShard?[shardCount];
    private readonly IActorRef?[] _entities = new IActorRef?[shardCount];
    private readonly bool[] _active = new bool[shardCount];
    private int _pending;

    /// <summary>Shards hosted (active or pending).</summary>
    public int Count { get; private set; }

    /// <summary>The shard, when it is hosted here and active: the PMD may track its packets in place.</summary>
    public bool TryGetActive(int shard, out ConntrackShard state)
    {
        state = _active[shard] ? _shards[shard]! : null!;
        return state is not null;
    }

    /// <summary>The shard, when it is hosted here (active or pending): its forwarded messages are answered here.</summary>
    public ConntrackShard? Get(int shard) => (uint)shard < (uint)_shards.Length ? _shards[shard] : null;

    /// <summary>Takes a lent shard; it becomes active once <see cref="ActivateReady"/> finds its messages answered.</summary>
    /// <returns>False for a shard outside the configured count (a configuration mismatch), which is not taken.</returns>
    public bool Host(ConntrackShard state, IActorRef entity)
    {
        int shard = state.Id;
        if ((uint)shard >= (uint)_shards.Length)
        {
            return false;
        }

        if (_shards[shard] is null)
        {
            Count++;
        }

        if (!_active[shard] && _shards[shard] is null)
        {
            _pending++;
        }

        _shards[shard] = state;
        _entities[shard] = entity;
        return true;
    }

    /// <summary>Activates the pending shards that <paramref name="remote"/> has no unanswered message for.</summary>
    public void ActivateReady(RemoteShards remote)
    {
        if (_pending == 0)
        {
            return;
        }

        for (int shard = 0; shard < _shards.Length; shard++)
        {
            if (_shards[shard] is not null && !_active[shard] && remote.OutstandingFor(shard) == 0)
            {
                _active[shard] = true;
                _pending--;
            }
        }
    }

    /// <summary>Stops hosting <paramref name="shard"/>; returns its state, or null when it was not hosted here.</summary>
    public ConntrackShard? Release(int shard)
    {
        var state = Get(shard);
        if (state is null)
        {
            return null;
        }

        if (!_active[shard])
        {
            _pending--;
        }

        _shards[shard] = null;
        _entities[shard] = null;
        _active[shard] = false;
        Count--;
        return state;
    }

    /// <summary>Every hosted shard with the entity that lent it.</summary>
    public IEnumerable<(ConntrackShard Shard, IActorRef Entity)> All()
    {
        for (int shard = 0; shard < _shards.Length; shard++)
        {
            if (_shards[shard] is { } state)
            {
                yield return (state, _entities[shard]!);
            }
        }
    }
}
