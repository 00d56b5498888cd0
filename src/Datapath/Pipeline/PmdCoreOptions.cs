using Datapath.Bypass;

namespace Datapath.Pipeline;

/// <summary>
/// Settings of a <see cref="PmdCore"/>. Their values come from the configuration (HOCON `datapath`,
/// read and validated by the Host, whose embedded datapath.conf holds every default): the record
/// has no defaults of its own, so no default is written twice and the compiler refuses a reader or
/// a test that forgets one. Tests take the embedded default's values through their Defaults helper.
/// </summary>
public sealed record PmdCoreOptions
{
    /// <summary>Exact-match cache entries (a power of two); 0 turns the EMC off.</summary>
    public required int EmcEntries { get; init; }

    /// <summary>One EMC insertion per N megaflow hits (1 = always, 0 = never).</summary>
    public required int EmcInsertInvProb { get; init; }

    /// <summary>The recirculation bypass: how established connections skip recirculation through guarded bypass flows (DESIGN.md).</summary>
    public required BypassMode Bypass { get; init; }

    /// <summary>Per-connection modes: the most bypass flows held (one per connection direction); beyond it, installs are refused and counted.</summary>
    public required int MaxBypassFlows { get; init; }

    /// <summary>Passes a packet may make through the pipeline before it is dropped as a loop.</summary>
    public required int MaxRecirculationDepth { get; init; }

    /// <summary>Packets the datapath's own pool holds (held fragments included).</summary>
    public required int PacketPoolSize { get; init; }

    /// <summary>A megaflow no packet used for this long is removed by the next revalidation (Open vSwitch's max-idle, 10 s).</summary>
    public required long MegaflowIdleMs { get; init; }
}
