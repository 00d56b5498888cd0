using Datapath.Bypass;

namespace Datapath.Pipeline;

/// <summary>Settings of a <see cref="PmdCore"/>.</summary>
public sealed record PmdCoreOptions
{
    /// <summary>Exact-match cache entries (a power of two); 0 turns the EMC off.</summary>
    public int EmcEntries { get; init; } = 8192;

    /// <summary>One EMC insertion per N megaflow hits (1 = always, 0 = never).</summary>
    public int EmcInsertInvProb { get; init; } = 100;

    /// <summary>The recirculation bypass: how established connections skip recirculation through guarded bypass flows (DESIGN.md).</summary>
    public BypassMode Bypass { get; init; } = BypassMode.Megaflow;

    /// <summary>Per-connection modes: the most bypass flows held (one per connection direction); beyond it, installs are refused and counted.</summary>
    public int MaxBypassFlows { get; init; } = 1 << 21;

    /// <summary>Passes a packet may make through the pipeline before it is dropped as a loop.</summary>
    public int MaxRecirculationDepth { get; init; } = 8;

    /// <summary>Packets the datapath's own pool holds (held fragments included).</summary>
    public int PacketPoolSize { get; init; } = 4096;

    /// <summary>A megaflow no packet used for this long is removed by the next revalidation (Open vSwitch's max-idle, 10 s).</summary>
    public long MegaflowIdleMs { get; init; } = 10_000;
}
