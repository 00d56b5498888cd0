namespace Datapath.Conntrack;

/// <summary>Why a connection left the table.</summary>
public enum RemovalReason : byte
{
    /// <summary>Its timeout passed (found by a sweep or by a lookup).</summary>
    Expired,

    /// <summary>A new SYN reused its closed tuple.</summary>
    Replaced,

    /// <summary>Flushed by the user.</summary>
    Flushed,
}

/// <summary>
/// A connection that left the table, so that the owner can tell PMDs that cached its state (for
/// example the bypass flows of an established connection) that it is gone. A plain value.
/// </summary>
/// <param name="Key">The original-direction key (zone included).</param>
/// <param name="ShardHash">The connection's symmetric hash, as <see cref="ConntrackInput.ShardHash"/>.</param>
public readonly record struct RemovedConnection(ConntrackKey Key, uint ShardHash, RemovalReason Reason);
