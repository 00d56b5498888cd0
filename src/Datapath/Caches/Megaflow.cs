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
    /// What the upcall handler that made this megaflow remembers about it (the rules it came from,
    /// what its translation depended on, the statistics already credited), or null when the
    /// handler keeps nothing. Read by revalidation; never touched on the packet path.
    /// </summary>
    public MegaflowOrigin? Origin { get; set; }

    /// <summary>
    /// Set on a combined flow (recirculation bypass): the megaflows it stands for and its guard.
    /// Null on every megaflow the classifier holds.
    /// </summary>
    public Shortcut? Shortcut
    {
        get => _shortcut;
        init
        {
            _shortcut = value;
            _original = value?.Original;
            _recirculated = value?.Recirculated;
        }
    }

    // A combined flow's two megaflows, also here so that a lookup checks them without reading the
    // per-connection Shortcut (one cache miss less per packet with a million connections).
    private readonly Shortcut? _shortcut;
    private readonly Megaflow? _original;
    private readonly Megaflow? _recirculated;

    /// <summary>A combined flow's original megaflow (the one its packets are credited to first), or null.</summary>
    public Megaflow? BypassOriginal => _original;

    /// <summary>
    /// Dead, or a combined flow whose original or recirculated megaflow died: either way a lookup
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

    public void Add(int bytes, ushort tcpFlags, long nowMs)
    {
        Packets++;
        Bytes += bytes;
        TcpFlags |= tcpFlags;
        UsedMs = nowMs;
    }
}
