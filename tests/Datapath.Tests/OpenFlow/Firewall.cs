using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Tests.Support;

namespace Datapath.Tests.OpenFlow;

/// <summary>The reference firewall of DESIGN.md, from tests/data/captures, on a two-port bridge.</summary>
internal static class Firewall
{
    public static string Text => File.ReadAllText(TestData.Capture("firewall.flows"));

    public static Translator NewTranslator(ManualClock? clock = null)
    {
        var tables = new OpenFlowTables(clock ?? new ManualClock());
        tables.AddFlows(Text, "firewall.flows");
        return new Translator(tables, new RecircRegistry(), [1, 2]);
    }
}
