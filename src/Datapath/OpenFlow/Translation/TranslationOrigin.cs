using Datapath.Caches;
using Datapath.OpenFlow.Tables;

namespace Datapath.OpenFlow.Translation;

/// <summary>
/// What a <see cref="Translator"/> remembers about a megaflow it made (the analogue of the
/// translation-side parts of Open vSwitch's udpif_key: the xlate cache's rules and the
/// revalidation sequence numbers): the rules its statistics are credited to, and the versions of
/// everything its translation read, so revalidation re-translates only megaflows whose inputs
/// moved. The megaflow's recirc(id) actions each hold one reference, released when it dies.
/// </summary>
public sealed class TranslationOrigin : MegaflowOrigin
{
    internal TranslationOrigin(TranslationResult result, long portsVersion)
    {
        Refresh(result, portsVersion);
    }

    /// <summary>The rules of the translation, original pass only (a recirculated pass has its own megaflow).</summary>
    public IReadOnlyList<FlowRule> Rules { get; private set; } = [];

    /// <summary>The translation used NORMAL (depends on the learned MACs).</summary>
    public bool UsedMacLearning { get; private set; }

    /// <summary>The translation read the port list (NORMAL, FLOOD, ALL).</summary>
    public bool UsedPorts { get; private set; }

    /// <summary><see cref="OpenFlowTables.Version"/> the translation (or the last successful revalidation) saw.</summary>
    public long TablesVersion { get; private set; }

    /// <summary><see cref="Translator.PortsVersion"/> the translation saw.</summary>
    public long PortsVersion { get; private set; }

    /// <summary><see cref="Normal.MacLearningTable.Generation"/> the translation saw.</summary>
    public long MacGeneration { get; private set; }

    /// <summary>The megaflow died and its recirculation references were released.</summary>
    public bool Released { get; internal set; }

    /// <summary>Whether anything this translation read has changed since (tables always; ports and MACs if it used them).</summary>
    public bool IsStale(long tablesVersion, long portsVersion, long macGeneration) =>
        tablesVersion != TablesVersion
        || (UsedPorts && portsVersion != PortsVersion)
        || (UsedMacLearning && macGeneration != MacGeneration);

    /// <summary>Adopts a re-translation that produced the same megaflow: its rules (which may be replacements) and versions.</summary>
    internal void Refresh(TranslationResult result, long portsVersion)
    {
        Rules = result.Rules;
        UsedMacLearning = result.UsedMacLearning;
        UsedPorts = result.UsedPorts;
        TablesVersion = result.TablesVersion;
        PortsVersion = portsVersion;
        MacGeneration = result.MacGeneration;
    }
}
