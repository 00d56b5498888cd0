namespace Datapath.Actions;

/// <summary>
/// One datapath action (the analogue of one OVS_ACTION_ATTR_* netlink attribute), a plain
/// value so an action list is one flat array. Only the fields of its <see cref="Kind"/> are used.
/// </summary>
public readonly record struct DatapathAction
{
    public ActionKind Kind { get; init; }

    /// <summary>Output port (Output).</summary>
    public uint Port { get; init; }

    /// <summary>Recirculation id (Recirculate).</summary>
    public uint RecircId { get; init; }

    /// <summary>Conntrack arguments (Conntrack).</summary>
    public ConntrackArgs Ct { get; init; }

    /// <summary>Field, value and mask (SetField).</summary>
    public SetFieldArgs Set { get; init; }

    /// <summary>Tag protocol identifier to push (PushVlan): 0x8100 or 0x88a8.</summary>
    public ushort VlanTpid { get; init; }

    /// <summary>Tag control information to push (PushVlan), without the present bit.</summary>
    public ushort VlanTci { get; init; }

    /// <summary>Opaque cookie passed to the userspace handler (Userspace).</summary>
    public uint UserspaceCookie { get; init; }

    /// <summary>The guard of a bypass flow (CtGuard).</summary>
    public IConntrackGuard? Guard { get; init; }

    public static DatapathAction Output(uint port) => new() { Kind = ActionKind.Output, Port = port };

    public static DatapathAction Drop() => new() { Kind = ActionKind.Drop };

    public static DatapathAction Conntrack(ConntrackArgs args) => new() { Kind = ActionKind.Conntrack, Ct = args };

    public static DatapathAction Recirculate(uint id) => new() { Kind = ActionKind.Recirculate, RecircId = id };

    public static DatapathAction SetField(SetFieldArgs args) => new() { Kind = ActionKind.SetField, Set = args };

    public static DatapathAction PushVlan(ushort tpid, ushort tci) => new() { Kind = ActionKind.PushVlan, VlanTpid = tpid, VlanTci = tci };

    public static DatapathAction PopVlan() => new() { Kind = ActionKind.PopVlan };

    public static DatapathAction Userspace(uint cookie) => new() { Kind = ActionKind.Userspace, UserspaceCookie = cookie };

    public static DatapathAction CtClear() => new() { Kind = ActionKind.CtClear };

    public static DatapathAction CtGuard(IConntrackGuard guard) => new() { Kind = ActionKind.CtGuard, Guard = guard, RecircId = guard.FallbackRecircId };
}

/// <summary>Arguments of ct(...) (the analogue of OVS_CT_ATTR_*).</summary>
public readonly record struct ConntrackArgs
{
    public ushort Zone { get; init; }

    public bool Commit { get; init; }

    /// <summary>ct_mark bits to set at commit, under <see cref="MarkMask"/> (0 mask: leave the mark).</summary>
    public uint Mark { get; init; }

    public uint MarkMask { get; init; }

    /// <summary>ct_label bits to set at commit, under <see cref="LabelMask"/>.</summary>
    public UInt128 Label { get; init; }

    public UInt128 LabelMask { get; init; }

    /// <summary>nat(...), or null when the ct action has none (OVS_CT_ATTR_NAT).</summary>
    public NatArgs? Nat { get; init; }

    /// <summary>
    /// The timeout policy a commit gives a new connection (ct(commit,timeout=NAME), OVS_CT_ATTR_TIMEOUT),
    /// or null for the zone's policy (ovs-vsctl add-zone-tp), else the defaults.
    /// </summary>
    public string? TimeoutPolicy { get; init; }
}

/// <summary>Header fields that set-field can rewrite.</summary>
public enum SetFieldTarget : byte
{
    EthSrc,
    EthDst,
    Ipv4Src,
    Ipv4Dst,
    Ipv6Src,
    Ipv6Dst,
    NwTos,
    NwTtl,
    TpSrc,
    TpDst,
}

/// <summary>A masked header rewrite (the analogue of OVS_ACTION_ATTR_SET_MASKED): new = (old AND NOT mask) OR (value AND mask).</summary>
public readonly record struct SetFieldArgs(SetFieldTarget Target, UInt128 Value, UInt128 Mask);
