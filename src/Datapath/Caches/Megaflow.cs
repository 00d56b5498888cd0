using Datapath.Actions;
using Datapath.Flow;

namespace Datapath.Caches;

/// <summary>
/// An installed datapath flow: a masked match and its actions (the analogue of dp_netdev_flow).
/// Owned by one PMD; the EMC and the classifier reference it. Marking it dead makes every
/// EMC entry that points at it miss, without touching the EMC.
/// </summary>
public sealed class Megaflow
{
    public Megaflow(in FlowKey key, in FlowKey mask, ActionList actions)
    {
        Mask = mask;
        Key = FlowKey.And(in key, in mask);
        Actions = actions;
    }

    /// <summary>The match, already masked.</summary>
    public readonly FlowKey Key;

    public readonly FlowKey Mask;

    public ActionList Actions { get; }

    public bool IsDead { get; private set; }

    public MegaflowStats Stats;

    /// <summary>
    /// What the maker of this megaflow remembers about it: the upcall handler (the rules it came
    /// from, what its translation depended on, the statistics already credited) or the
    /// recirculation bypass (the connection a bypass flow was built for); null when the maker keeps
    /// nothing. Never read on the lookup path.
    /// </summary>
    public MegaflowOrigin? Origin { get; set; }

    /// <summary>
    /// Set on a bypass flow (recirculation bypass): the megaflow of the first pass (its actions end
    /// in ct, recirc), credited with every packet of the bypass flow. Null on every megaflow an
    /// upcall made. A bypass flow's actions are the original's up to its ct action, a guard, then
    /// the recirculated megaflow's actions.
    /// </summary>
    public Megaflow? BypassOriginal
    {
        get => _original;
        init => _original = value;
    }

    /// <summary>Set on a bypass flow: the megaflow its packets would hit after recirculating (its guard's); null otherwise.</summary>
    public Megaflow? BypassRecirculated
    {
        get => _recirculated;
        init => _recirculated = value;
    }

    // A bypass flow's two megaflows, fields of the flow itself so that a lookup checks them without
    // reading anything else (one cache miss less per packet with a million connections).
    private readonly Megaflow? _original;
    private readonly Megaflow? _recirculated;

    /// <summary>True for a bypass flow (it stands for two megaflows).</summary>
    public bool IsBypassFlow => _original is not null;

    /// <summary>
    /// Dead, or a bypass flow whose original or recirculated megaflow died: either way a lookup
    /// that finds it must miss.
    /// </summary>
    public bool IsUnusable => IsDead || (_original is not null && (_original.IsDead || _recirculated!.IsDead));

    public void MarkDead() => IsDead = true;

    /// <summary>True when <paramref name="key"/> falls under this megaflow.</summary>
    public bool Matches(in FlowKey key) => FlowKey.MatchesMasked(in key, in Mask, in Key);
}

/// <summary>Per-flow statistics (as dpctl/dump-flows shows them).</summary>
public struct MegaflowStats
{
    public long Packets;
    public long Bytes;

    /// <summary>Last use, in the owner's clock (milliseconds).</summary>
    public long UsedMs;

    /// <summary>OR of the TCP flags of every packet counted.</summary>
    public ushort TcpFlags;

    public void Add(int bytes, ushort tcpFlags, long nowMs) => Add(1, bytes, tcpFlags, nowMs);

    /// <summary>Counts <paramref name="packets"/> packets of <paramref name="bytes"/> bytes in all at once (a batch's worth).</summary>
    public void Add(int packets, long bytes, ushort tcpFlags, long nowMs)
    {
        Packets += packets;
        Bytes += bytes;
        TcpFlags |= tcpFlags;
        UsedMs = nowMs;
    }
}
