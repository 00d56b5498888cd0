using Datapath.Conntrack;
using Datapath.Flow;

namespace Datapath.Caches;

/// <summary>
/// What makes a megaflow a combined flow (recirculation bypass): the two megaflows it stands for
/// and the connection direction it was built for. A combined flow is an exact-match megaflow whose
/// actions are the original flow's up to and including its ct action, a <see cref="CtGuard"/>,
/// then the recirculated flow's actions. It lives only in the <see cref="ShortcutTable"/> (and the
/// EMC), never in the classifier, and dies with either megaflow, with its connection's
/// established state (told by conntrack), or when its guard fails.
/// </summary>
public sealed class Shortcut
{
    public Shortcut(Megaflow original, CtGuard guard, in ConntrackKey connection, uint connectionHash, uint keyHash)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(guard);
        Original = original;
        Guard = guard;
        Connection = connection;
        ConnectionHash = connectionHash;
        KeyHash = keyHash;
    }

    /// <summary>The megaflow of the first pass (its actions end in ct, recirc); credited with every packet of the combined flow.</summary>
    public Megaflow Original { get; }

    public CtGuard Guard { get; }

    /// <summary>The recirculated pass's megaflow (the guard's).</summary>
    public Megaflow Recirculated => Guard.Recirculated;

    /// <summary>The connection as this direction's packets key it (zone included).</summary>
    public readonly ConntrackKey Connection;

    /// <summary>The connection's symmetric hash (<see cref="ConntrackInput.ShardHash"/>): both directions share it.</summary>
    public uint ConnectionHash { get; }

    /// <summary>The exact key's hash (<see cref="FlowHash.Hash"/>).</summary>
    public uint KeyHash { get; }

    /// <summary>Next shortcut of the same connection hash (the table's per-connection chain).</summary>
    internal Megaflow? NextOfConnection { get; set; }

    /// <summary>True when this shortcut belongs to <paramref name="connection"/> in either direction.</summary>
    public bool BelongsTo(in ConntrackKey connection) =>
        ConntrackKey.Equals(in Connection, in connection) || ConntrackKey.IsReverseOf(in Connection, in connection);
}
