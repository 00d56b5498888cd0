using Datapath.Actions;
using Datapath.Flow;
using Datapath.OpenFlow.Tables;

namespace Datapath.OpenFlow.Translation;

/// <summary>
/// What translating one packet produced (the analogue of Open vSwitch's xlate_out plus the
/// wildcards and the rules it used).
/// </summary>
public sealed class TranslationResult
{
    internal TranslationResult(ActionList actions, in FlowKey mask, IReadOnlyList<FlowRule> rules, string? error, bool usedMacLearning,
        in OfFlow initialFlow, in OfFlow finalFlow, long tablesVersion, long macGeneration)
    {
        Actions = actions;
        Mask = mask;
        Rules = rules;
        Error = error;
        UsedMacLearning = usedMacLearning;
        InitialFlow = initialFlow;
        FinalFlow = finalFlow;
        TablesVersion = tablesVersion;
        MacGeneration = macGeneration;
    }

    /// <summary>The datapath actions; empty means drop. Each recirc(id) in it holds one reference on the id.</summary>
    public ActionList Actions { get; }

    /// <summary>The megaflow mask: every datapath key bit that decided the actions (always recirc_id and in_port).</summary>
    public FlowKey Mask { get; }

    /// <summary>The rules that matched, in order (credit them with the megaflow's traffic).</summary>
    public IReadOnlyList<FlowRule> Rules { get; }

    /// <summary>Why translation failed (unknown recirculation id, resubmit depth exceeded), or null.</summary>
    public string? Error { get; }

    /// <summary>The packet carried a recirculation id that names no continuation: nothing to install.</summary>
    public bool UnknownRecirculation { get; init; }

    /// <summary>The translation asked the MAC learning table (NORMAL): revalidate when its generation moves.</summary>
    public bool UsedMacLearning { get; }

    /// <summary>The translation read the bridge's port list (flooding, NORMAL): revalidate when the ports change.</summary>
    public bool UsedPorts { get; init; }

    /// <summary>The OpenFlow flow translation started from (registers restored after recirculation).</summary>
    public OfFlow InitialFlow { get; }

    /// <summary>The OpenFlow flow when translation ended (after set_field, ct clearing...).</summary>
    public OfFlow FinalFlow { get; }

    /// <summary><see cref="OpenFlowTables.Version"/> the translation saw.</summary>
    public long TablesVersion { get; }

    /// <summary><see cref="Normal.MacLearningTable.Generation"/> after the translation (including what it learned itself).</summary>
    public long MacGeneration { get; }
}
