using Datapath.Caches;
using Datapath.Conntrack;
using Datapath.Flow;

namespace Datapath.Bypass;

/// <summary>
/// What the per-connection bypass remembers about one bypass flow it built (its
/// <see cref="Megaflow.Origin"/>): the connection direction it was built for, so that conntrack's
/// word that the connection left the established state finds it, and where the
/// <see cref="BypassFlowTable"/> keeps it. Bypass flows of the megaflow mode have none: they belong
/// to no connection.
/// </summary>
public sealed class BypassFlowOrigin : MegaflowOrigin
{
    public BypassFlowOrigin(in ConntrackKey connection, uint connectionHash, uint keyHash)
    {
        Connection = connection;
        ConnectionHash = connectionHash;
        KeyHash = keyHash;
    }

    /// <summary>The connection as this direction's packets key it (zone included).</summary>
    public readonly ConntrackKey Connection;

    /// <summary>The connection's symmetric hash (<see cref="ConntrackInput.ShardHash"/>): both directions share it.</summary>
    public uint ConnectionHash { get; }

    /// <summary>The exact key's hash (<see cref="FlowHash.Hash"/>).</summary>
    public uint KeyHash { get; }

    /// <summary>Next bypass flow of the same connection hash (the table's per-connection chain).</summary>
    internal Megaflow? NextOfConnection { get; set; }

    /// <summary>True when this flow belongs to <paramref name="connection"/> in either direction.</summary>
    public bool BelongsTo(in ConntrackKey connection) =>
        ConntrackKey.Equals(in Connection, in connection) || ConntrackKey.IsReverseOf(in Connection, in connection);

    /// <summary>The record of a per-connection bypass flow (every flow in a <see cref="BypassFlowTable"/> has one).</summary>
    public static BypassFlowOrigin Of(Megaflow flow) =>
        flow.Origin as BypassFlowOrigin ?? throw new ArgumentException("Not a per-connection bypass flow.", nameof(flow));
}
