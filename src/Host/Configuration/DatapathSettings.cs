using Actors.Bridge;
using Actors.Conntrack;
using Actors.Pmd;
using Actors.Ports;
using Akka.Configuration;

namespace Host.Configuration;

/// <summary>
/// The whole configuration, read once and validated (every error names the file, or the
/// command-line option, and the key): one settings record per owner, handed to it as is. Every
/// default is in the embedded hocon/datapath.conf and nowhere else; the records have none.
/// </summary>
public sealed record DatapathSettings
{
    /// <summary>datapath.pmds: PMD actors to run (a configured 0 is one per CPU of datapath.pmd-cpu-mask, or one per core without it).</summary>
    public required int Pmds { get; init; }

    /// <summary>What every PMD actor is configured with.</summary>
    public required PmdSettings Pmd { get; init; }

    /// <summary>datapath.conntrack: the conntrack shards.</summary>
    public required ConntrackSettings Conntrack { get; init; }

    /// <summary>The bridge: rule expiry, fan-outs, the ports it creates (queues-per-port 0: one per PMD).</summary>
    public required BridgeSettings Bridge { get; init; }

    /// <summary>datapath.flows: the flow file, or null for the embedded firewall.</summary>
    public required string? FlowsPath { get; init; }

    /// <summary>datapath.generator: the main job's generator ports (also read when other ports drive the job: the section is always valid).</summary>
    public required GeneratorPortSettings Generator { get; init; }

    /// <summary>datapath.generator.duration: how long the main job runs.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>datapath.pcap: the main job's ports when `ports = pcap`, else null.</summary>
    public required PcapPortSettings? Pcap { get; init; }

    /// <summary>datapath.system: the main job's ports as Linux interfaces when `ports = system`, else null.</summary>
    public required SystemPortsSettings? SystemPorts { get; init; }

    /// <summary>datapath.control: the control socket of `run`.</summary>
    public required ControlSettings Control { get; init; }

    /// <summary>datapath.metrics: the Prometheus metrics endpoint of `run`.</summary>
    public required MetricsSettings Metrics { get; init; }

    /// <summary>datapath.openflow: the bridge's OpenFlow listeners and controllers.</summary>
    public required OpenFlowSettings OpenFlow { get; init; }

    /// <summary>Receive queues of each port: datapath.queues-per-port, or one per PMD for 0.</summary>
    public int QueuesPerPort => Bridge.PortQueues > 0 ? Bridge.PortQueues : Pmds;

    /// <summary>The embedded default, read: what `run` does with no configuration.</summary>
    public static DatapathSettings Embedded() => From(DatapathConfig.Load(null));

    public static DatapathSettings From(Config config, string source) => From(new LoadedConfig(config, source));

    /// <exception cref="ConfigurationException">A value is missing, malformed or out of range.</exception>
    public static DatapathSettings From(LoadedConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var reader = new SettingReader(config);
        var pmd = PmdSection.Read(reader);
        int pmds = reader.Int("datapath.pmds", 0, 1024) is var p && p > 0 ? p
            : pmd.Cpus.Count > 0 ? Math.Min(pmd.Cpus.Count, 1024) : Environment.ProcessorCount;
        PmdSection.CheckCpus(reader, pmd, pmds);
        var bridge = BridgeSection.Read(reader);
        int queues = bridge.PortQueues > 0 ? bridge.PortQueues : pmds;
        string ports = reader.Text("datapath.ports");
        if (ports is not ("generator" or "pcap" or "system"))
        {
            throw reader.Error("datapath.ports", $"'{SettingReader.Shown(ports)}' is not a port type (generator, pcap or system)");
        }

        CheckClusterProvider(config, reader);
        return new DatapathSettings
        {
            Pmds = pmds,
            Pmd = pmd,
            Conntrack = ConntrackSection.Read(reader, pmds),
            Bridge = bridge,
            FlowsPath = reader.Text("datapath.flows") is { Length: > 0 } path ? path : null,
            Generator = GeneratorSection.Read(reader, queues, bridge.PortWindow),
            Duration = GeneratorSection.Duration(reader),
            Pcap = ports == "pcap" ? PcapSection.Read(reader, queues, bridge.PortWindow) : null,
            SystemPorts = ports == "system" ? SystemPortsSettings.From(reader) : null,
            Control = ControlSettings.From(reader),
            Metrics = MetricsSettings.From(reader),
            OpenFlow = OpenFlowSettings.From(reader),
        };
    }

    /// <summary>Seed nodes on a standalone node would be ignored silently: say which key is missing instead.</summary>
    private static void CheckClusterProvider(LoadedConfig config, SettingReader reader)
    {
        // Read as the other lists are: seed nodes that are not strings would fail only when the cluster starts.
        if (reader.List("akka.cluster.seed-nodes").Count > 0
            && !Actors.Cluster.DatapathCluster.IsClusterProvider(config.Config))
        {
            throw reader.Error("akka.cluster.seed-nodes", "seed nodes need akka.actor.provider = cluster (see hocon/two-node.conf)");
        }
    }
}
