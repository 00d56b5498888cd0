namespace Datapath.Conntrack;

/// <summary>Why the holders of a connection's bypass flows are told to drop them.</summary>
public enum BypassNoticeReason : byte
{
    /// <summary>FIN or RST seen, or conntrack no longer answers +est.</summary>
    LeftEstablished,

    /// <summary>A packet of the connection was invalid.</summary>
    Invalid,

    /// <summary>A commit changed ct_mark or ct_label, which a recirculated flow may match.</summary>
    MarkOrLabelChanged,

    /// <summary>The connection left the table (expired, replaced by a new SYN, flushed).</summary>
    Removed,
}

/// <summary>A watched connection left the established state: its holders drop their bypass flows.</summary>
/// <param name="Key">The original-direction key (zone included).</param>
/// <param name="ShardHash">The connection's symmetric hash.</param>
/// <param name="Holders">The watchers' bits (the owner's numbering).</param>
public readonly record struct BypassNotice(ConntrackKey Key, uint ShardHash, ulong Holders, BypassNoticeReason Reason);
