using Actors.Bridge;
using Actors.Conntrack;
using Actors.Pmd;
using Actors.Ports;
using Datapath.Conntrack;
using Datapath.Pipeline;
using Host.Configuration;
using Traffic;

namespace Datapath.Tests.Support;

/// <summary>
/// The embedded default configuration (hocon/datapath.conf), read by the product's own reader: the
/// one place every test takes default settings from (`Defaults.PmdCoreOptions with { ... }`), so
/// that no test writes a default's number again and a changed default reaches every test.
/// </summary>
internal static class Defaults
{
    private static readonly Lazy<DatapathSettings> Embedded = new(DatapathSettings.Embedded);

    /// <summary>Everything the embedded default configures (the main job's settings).</summary>
    public static DatapathSettings Settings => Embedded.Value;

    public static PmdSettings PmdSettings => Settings.Pmd;

    public static PmdCoreOptions PmdCoreOptions => Settings.Pmd.Core;

    /// <summary>The conntrack shards' settings (one shard per core, as the embedded default resolves them).</summary>
    public static ConntrackSettings ConntrackSettings => Settings.Conntrack;

    /// <summary>One connection table holding every connection, with the embedded limits and timeouts (Open vSwitch's).</summary>
    public static ConntrackOptions ConntrackOptions => Settings.Conntrack.SingleTableOptions();

    public static BridgeSettings BridgeSettings => Settings.Bridge;

    /// <summary>datapath.port-window, for port settings built in a test.</summary>
    public static int PortWindow => Settings.Bridge.PortWindow;

    public static TrafficProfile TrafficProfile => Settings.Generator.Profile;

    /// <summary>The generator ports of the main job (with one queue per core, as the embedded default resolves them).</summary>
    public static GeneratorPortSettings GeneratorPortSettings => Settings.Generator;
}
