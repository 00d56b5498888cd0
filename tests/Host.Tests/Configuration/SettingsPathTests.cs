using Datapath.Bypass;
using Host.Configuration;

namespace Host.Tests.Configuration;

/// <summary>
/// HOCON to one settings record per owner, read once: every key reaches the record of the part that
/// uses it, and command-line values are layered over the file as keys, checked by the same reader.
/// </summary>
public sealed class SettingsPathTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dp-settings-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Every_pmd_bridge_and_port_key_reaches_its_owners_record()
    {
        string path = Write("""
            datapath {
              pmds = 3
              emc-entries = 4096
              emc-insert-inv-prob = 7
              max-recirculation-depth = 5
              packet-pool-size = 1000
              megaflow-idle = 3s
              revalidate-interval = 250ms
              conntrack-direct-routes = off
              conntrack-answer-timeout = 9s
              flow-expiry-interval = 2s
              gather-timeout = 4s
              queues-per-port = 0
              port-window = 6
              generator { connections = 42, seed = 9, frame-size-max = 128, rate-pps = 500, duration = 2s }
            }
            """);

        var s = DatapathSettings.From(DatapathConfig.Load(path));

        Assert.Equal(
            (4096, 7, 5, 1000, 3_000L),
            (s.Pmd.Core.EmcEntries, s.Pmd.Core.EmcInsertInvProb, s.Pmd.Core.MaxRecirculationDepth, s.Pmd.Core.PacketPoolSize, s.Pmd.Core.MegaflowIdleMs));
        Assert.Equal(
            (TimeSpan.FromMilliseconds(250), false, TimeSpan.FromSeconds(9)),
            (s.Pmd.RevalidateInterval, s.Pmd.DirectConntrackRoutes, s.Pmd.ConntrackAnswerTimeout));
        Assert.Equal((TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), 0, 6), (s.Bridge.ExpiryInterval, s.Bridge.GatherTimeout, s.Bridge.PortQueues, s.Bridge.PortWindow));

        // queues-per-port = 0: one queue per PMD, for the ports the job starts and as the bridge resolves it.
        Assert.Equal((3, 3, 6), (s.QueuesPerPort, s.Generator.QueuesPerPort, s.Generator.Window));
        Assert.Equal((42, 9UL, 128, 500L), (s.Generator.Profile.Connections, s.Generator.Seed, s.Generator.Profile.FrameSize.Max, s.Generator.Profile.RatePps));
        Assert.Equal(TimeSpan.FromSeconds(2), s.Duration);
    }

    [Fact]
    public void The_pcap_section_becomes_the_pcap_ports_settings()
    {
        string path = Write("""
            datapath {
              ports = pcap
              queues-per-port = 2
              port-window = 3
              pcap { rx = "in.pcap", tx-port2 = "out2.pcap", loop = on }
            }
            """);

        var pcap = DatapathSettings.From(DatapathConfig.Load(path)).Pcap!;

        Assert.Equal(("in.pcap", true, 2, 3), (pcap.RxPath, pcap.Loop, pcap.QueuesPerPort, pcap.Window));
        Assert.Equal([(2u, "out2.pcap")], pcap.TxPaths.Select(t => (t.Key, t.Value)));
    }

    [Fact]
    public void A_command_line_value_wins_over_the_file_and_what_follows_it_is_resolved_again()
    {
        string path = Write("datapath { pmds = 2, generator.connections = 10 }\n");

        var settings = DatapathSettings.From(DatapathConfig.Load(path)
            .With("datapath.pmds", "4", "--pmds")
            .With("datapath.recirc-bypass", "off", "--bypass"));

        Assert.Equal(4, settings.Pmds);
        Assert.Equal(4, settings.QueuesPerPort);
        Assert.Equal(4, settings.Generator.QueuesPerPort);
        Assert.Equal(BypassMode.Off, settings.Pmd.Core.Bypass);
        Assert.Equal(10, settings.Generator.Profile.Connections);
    }

    [Fact]
    public void Queues_fixed_by_the_file_do_not_follow_the_command_lines_pmds()
    {
        string path = Write("datapath.queues-per-port = 2\n");

        var settings = DatapathSettings.From(DatapathConfig.Load(path).With("datapath.pmds", "4", "--pmds"));

        Assert.Equal((4, 2, 2), (settings.Pmds, settings.QueuesPerPort, settings.Generator.QueuesPerPort));
    }

    [Fact]
    public void A_bad_command_line_value_is_reported_with_the_option_and_a_bad_file_value_with_the_file()
    {
        string path = Write("datapath.port-window = 0\n");
        var config = DatapathConfig.Load(null).With("datapath.generator.connections", "2000000", "--connections");

        var fromOption = Assert.Throws<ConfigurationException>(() => DatapathSettings.From(config));
        var fromFile = Assert.Throws<ConfigurationException>(() => DatapathSettings.From(DatapathConfig.Load(path).With("datapath.pmds", "1", "--pmds")));

        Assert.StartsWith("--connections: datapath.generator.connections: 2000000 is outside", fromOption.Message, StringComparison.Ordinal);
        Assert.StartsWith(path + ": datapath.port-window: ", fromFile.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_command_line_value_stays_one_string_whatever_it_holds()
    {
        const string socket = "/tmp/a dir/with \"quotes\" and a \\ backslash.ctl";

        var settings = DatapathSettings.From(DatapathConfig.Load(null).With("datapath.control.socket", socket, "--control"));

        Assert.Equal(socket, settings.Control.SocketPath);
    }

    private string Write(string text)
    {
        string path = Path.Combine(_dir, $"{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, text);
        return path;
    }
}
