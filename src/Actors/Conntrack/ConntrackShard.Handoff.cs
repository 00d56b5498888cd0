namespace Actors.Conntrack;

/// <summary>A shard rebuilt on another node from a moved table (<see cref="Handoff.ShardKeeperActor"/>).</summary>
public sealed partial class ConntrackShard
{
    /// <summary>An empty shard whose clock reads <paramref name="clockMs"/> at <paramref name="now"/>: the clock of the shard it continues, so moved expiry times keep their meaning.</summary>
    public static ConntrackShard Continuing(int id, ConntrackSettings settings, DateTimeOffset now, long clockMs) =>
        new(id, settings, now) { _clockMs = clockMs };
}
