using Datapath.Bypass;
using Datapath.Pipeline;

namespace Actors.Pmd;

/// <summary>What one PMD actor is configured with (from HOCON's `datapath` section).</summary>
public sealed record PmdSettings
{
    public int EmcEntries { get; init; } = 8192;

    public int EmcInsertInvProb { get; init; } = 100;

    /// <summary>datapath.recirc-bypass: how established connections skip recirculation through guarded bypass flows.</summary>
    public BypassMode Bypass { get; init; } = BypassMode.Megaflow;

    /// <summary>datapath.recirc-bypass-max-flows: per-connection modes, the most bypass flows held (one per connection direction).</summary>
    public int MaxBypassFlows { get; init; } = 1 << 21;

    public int MaxRecirculationDepth { get; init; } = 8;

    /// <summary>Megaflows unused this long are removed by the periodic revalidation (OVS: 10 s).</summary>
    public long MegaflowIdleMs { get; init; } = 10_000;

    /// <summary>How often statistics are pushed to the rules and idle megaflows expire.</summary>
    public TimeSpan RevalidateInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Send to conntrack shard actors directly once their references are known (the region keeps ownership).</summary>
    public bool DirectConntrackRoutes { get; init; } = true;

    /// <summary>A conntrack batch unanswered this long is given up (its shard stopped or restarted): its packets are dropped and counted.</summary>
    public TimeSpan ConntrackAnswerTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Packets of this PMD's own pool (recirculation copies and reassembly).</summary>
    public int PacketPoolSize { get; init; } = 4096;

    /// <summary>The options of the <see cref="PmdCore"/> a PMD with these settings drives (also the inline reference's, so both run alike).</summary>
    public PmdCoreOptions CoreOptions() => new()
    {
        EmcEntries = EmcEntries,
        EmcInsertInvProb = EmcInsertInvProb,
        MaxRecirculationDepth = MaxRecirculationDepth,
        MegaflowIdleMs = MegaflowIdleMs,
        Bypass = Bypass,
        MaxBypassFlows = MaxBypassFlows,
        PacketPoolSize = PacketPoolSize,
    };
}
