namespace Datapath.Pipeline;

/// <summary>Settings of a <see cref="PmdCore"/>.</summary>
public sealed record PmdCoreOptions
{
    /// <summary>Exact-match cache entries (a power of two); 0 turns the EMC off.</summary>
    public int EmcEntries { get; init; } = 8192;

    /// <summary>One EMC insertion per N megaflow hits (1 = always, 0 = never).</summary>
    public int EmcInsertInvProb { get; init; } = 100;

    /// <summary>Established connections skip recirculation through guarded combined flows (DESIGN.md, recirculation bypass).</summary>
    public bool RecircBypass { get; init; } = true;

    /// <summary>Most combined flows held (one per connection direction); beyond it, installs are refused and counted.</summary>
    public int ShortcutEntries { get; init; } = 1 << 21;

    /// <summary>Look combined flows up through the EMC alone (the seed's way) instead of the shortcut table first.</summary>
    public bool ShortcutsInEmcOnly { get; init; }

    /// <summary>
    /// Combined flows as masked megaflows shared by every connection through one pair of megaflows
    /// (no per-connection shortcut), looked up after the EMC and before the megaflow classifier.
    /// </summary>
    public bool CombinedMegaflows { get; init; } = true;

    /// <summary>Passes a packet may make through the pipeline before it is dropped as a loop.</summary>
    public int MaxRecirculationDepth { get; init; } = 8;

    /// <summary>Packets the datapath's own pool holds (held fragments included).</summary>
    public int PacketPoolSize { get; init; } = 4096;

    /// <summary>A megaflow no packet used for this long is removed by the next revalidation (Open vSwitch's max-idle, 10 s).</summary>
    public long MegaflowIdleMs { get; init; } = 10_000;
}
