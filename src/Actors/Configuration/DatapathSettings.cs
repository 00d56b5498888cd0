using System.Numerics;
using Actors.Pmd;
using Akka.Configuration;

namespace Actors.Configuration;

/// <summary>The validated `datapath` section.</summary>
public sealed record DatapathSettings(int EmcEntries, int EmcInsertInvProb, GeneratorSettings Generator, ConntrackSettings Conntrack)
{
    /// <summary>PMD actors to run (the configured count, or one per core for 0).</summary>
    public int Pmds { get; init; } = Environment.ProcessorCount;

    /// <summary>What every PMD actor is configured with.</summary>
    public PmdSettings Pmd { get; init; } = new();

    /// <summary>The flow file, or null for the embedded firewall.</summary>
    public string? FlowsPath { get; init; }

    /// <summary>Receive queues per port (one per PMD when configured as 0).</summary>
    public int QueuesPerPort { get; init; } = 1;

    /// <summary>Batches a port may have outstanding at each PMD.</summary>
    public int PortWindow { get; init; } = 4;

    /// <summary>The main job's ports: the pcap section when `ports = pcap`, else null (generator).</summary>
    public PcapSettings? Pcap { get; init; }

    /// <summary>The main job's ports as Linux interfaces when `ports = system`, else null.</summary>
    public SystemPortsSettings? SystemPorts { get; init; }

    /// <summary>The control socket of `run` (datapath.control).</summary>
    public ControlSettings Control { get; init; } = new(null, 16, 16 << 20, TimeSpan.FromSeconds(10));

    /// <summary>The bridge's OpenFlow listeners and controllers (datapath.openflow).</summary>
    public OpenFlowSettings OpenFlow { get; init; } = OpenFlowSettings.Default;

    /// <summary>The Prometheus metrics endpoint of `run` (datapath.metrics); off unless configured.</summary>
    public MetricsSettings Metrics { get; init; } = new(false, MetricsSettings.DefaultPort, TimeSpan.FromSeconds(8));

    public static DatapathSettings From(Config config, string source)
    {
        var reader = new SettingReader(config, source);
        int emc = reader.Int("datapath.emc-entries", 0, 1 << 20);
        if (emc != 0 && !BitOperations.IsPow2(emc))
        {
            throw new ConfigurationException(source, "datapath.emc-entries", $"{emc} is not a power of two (or 0 to turn the EMC off)");
        }

        int pmds = reader.Int("datapath.pmds", 0, 1024) is var p && p > 0 ? p : Environment.ProcessorCount;
        int emcInsertInvProb = reader.Int("datapath.emc-insert-inv-prob", 0, int.MaxValue);
        var pmd = new PmdSettings
        {
            EmcEntries = emc,
            EmcInsertInvProb = emcInsertInvProb,
            RecircBypass = reader.Bool("datapath.recirc-bypass"),
            ShortcutEntries = reader.Int("datapath.recirc-bypass-shortcuts", 1, 1 << 24),
            ShortcutsInEmcOnly = reader.Bool("datapath.recirc-bypass-emc-only"),
            CombinedMegaflows = reader.Bool("datapath.recirc-bypass-megaflows"),
            MaxRecirculationDepth = reader.Int("datapath.max-recirculation-depth", 1, 64),
            MegaflowIdleMs = (long)reader.Duration("datapath.megaflow-idle", TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1)).TotalMilliseconds,
            RevalidateInterval = reader.Duration("datapath.revalidate-interval", TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1)),
            DirectConntrackRoutes = reader.Bool("datapath.conntrack-direct-routes"),
        };
        return new DatapathSettings(
            emc,
            emcInsertInvProb,
            GeneratorSettings.From(reader),
            ConntrackSettings.From(reader))
        {
            Pmds = pmds,
            Pmd = pmd,
            FlowsPath = reader.Text("datapath.flows") is { Length: > 0 } path ? path : null,
            QueuesPerPort = reader.Int("datapath.queues-per-port", 0, 1024) is var q && q > 0 ? q : pmds,
            PortWindow = reader.Int("datapath.port-window", 1, 1024),
            Control = ControlSettings.From(reader),
            Metrics = MetricsSettings.From(reader),
            OpenFlow = OpenFlowSettings.From(reader),
            Pcap = reader.Text("datapath.ports") switch
            {
                "generator" or "system" => null,
                "pcap" => PcapSettings.From(reader),
                var other => throw new ConfigurationException(source, "datapath.ports", $"'{other}' is not a port type (generator, pcap or system)"),
            },
            SystemPorts = reader.Text("datapath.ports") == "system" ? SystemPortsSettings.From(reader) : null,
        };
    }
}


