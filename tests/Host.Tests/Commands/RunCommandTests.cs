using System.Globalization;
using System.Text.Json;
using Host.Tests.Support;

namespace Host.Tests.Commands;

/// <summary>
/// The main job: the firewall between two generator ports on the actor datapath. Kept short
/// (about a second of traffic) so the suite stays quick; what it asserts holds at any length.
/// </summary>
public sealed class RunCommandTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void The_main_job_runs_the_firewall_between_two_generator_ports_and_reports()
    {
        var (exit, report, error) = Invoke("run", "--duration", "1", "--pmds", "1", "--connections", "20");

        Assert.Equal(0, exit);
        Assert.Empty(error);
        Assert.Matches(@"throughput: \d+\.\d\d Mpps over \d+\.\d s \(\d+ packets\)", report);

        // Every frame a host sent crossed the firewall (connections open from port 1 only): what
        // port 1 received, port 2 transmitted, and back.
        var port1 = SummaryTables.Row(report, "1");
        var port2 = SummaryTables.Row(report, "2");
        Assert.True(port1[0] > 0);
        Assert.Equal(port1[0], port2[2]);
        Assert.Equal(port2[0], port1[2]);
        Assert.Equal(0, port1[4] + port1[5] + port2[4] + port2[5]);

        // Real connections: handshakes answered, nothing timed out.
        var tcp = SummaryTables.Row(report, "tcp");
        Assert.True(tcp[1] > 0, "TCP connections completed");
        Assert.Equal(0, tcp[3]);

        // dump-flows counts read like Open vSwitch's: every IPv4 packet hit the ct rule of table 0.
        Assert.Matches(@"table=0, n_packets=\d+, n_bytes=\d+, priority=100,ct_state=-trk,ip actions=ct\(table=1\)", report);
        Assert.Matches(@"table=1, n_packets=0, n_bytes=0, ct_state=\+new\+trk,ip,in_port=2 actions=drop", report);
    }

    [Fact]
    public void Run_is_the_default_command()
    {
        var (exit, report, _) = Invoke("--duration", "0.5", "--pmds", "1", "--connections", "5");

        Assert.Equal(0, exit);
        Assert.Contains("throughput:", report, StringComparison.Ordinal);
    }

    [Fact]
    public void An_openflow_port_already_taken_ends_the_run_at_once_naming_the_port_and_the_key()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        int port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;

        var (exit, report, error) = Invoke("run", "--duration", "5", "--pmds", "1", "--openflow-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(1, exit);
        Assert.Empty(report);
        Assert.Contains($"cannot listen on ptcp:{port}:127.0.0.1 (datapath.openflow.listen-port, --openflow-port): Address already in use", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Connections_opened_from_port_2_are_dropped_by_the_firewall_and_time_out()
    {
        string path = _scratch.Write("inbound.conf", "datapath.generator { server-initiated-percent = 50, connection-timeout = 100ms }\n");

        var (exit, report, error) = Invoke("run", "--config", path, "--duration", "1.5", "--pmds", "1", "--connections", "20");

        Assert.Equal(0, exit);
        Assert.Empty(error);
        var timedOut = SummaryTables.Row(report, "tcp")[3] + SummaryTables.Row(report, "udp")[3] + SummaryTables.Row(report, "icmp")[3];
        Assert.True(timedOut > 0, "port-2-initiated connections time out");
        Assert.Matches(@"table=1, n_packets=[1-9]\d*, n_bytes=\d+, ct_state=\+new\+trk,ip,in_port=2 actions=drop", report);
    }

    [Fact]
    public void Pcap_ports_replay_a_capture_through_the_firewall_and_write_what_it_transmits()
    {
        string capture = Datapath.Tests.Support.TestData.Capture("udp-stream.pcap");
        string tx2 = Path.Combine(_scratch.Path, "port2.pcap");
        string path = _scratch.Write("pcap.conf", $"datapath.ports = pcap\ndatapath.pcap {{ rx = \"{capture}\", tx-port2 = \"{tx2}\" }}\n");

        var (exit, report, error) = Invoke("run", "--config", path, "--duration", "1", "--pmds", "1");

        Assert.Equal(0, exit);
        Assert.Empty(error);
        var verdicts = File.ReadAllLines(Datapath.Tests.Support.TestData.Capture(Path.Combine("expected", "udp-stream.verdict")));
        long toPort2 = verdicts.Count(v => v.EndsWith("-> 2", StringComparison.Ordinal));
        Assert.Equal(toPort2, SummaryTables.Row(report, "2")[2]);
        using var written = Datapath.Packets.Pcap.PcapReader.Open(tx2);
        long frames = 0;
        while (written.TryReadNext(out _))
        {
            frames++;
        }

        Assert.Equal(toPort2, frames);
    }

    [Theory]
    [InlineData("datapath.ports = tap", "datapath.ports", "not a port type")]
    [InlineData("datapath.ports = pcap", "datapath.pcap.rx", "needs the capture")]
    public void Bad_port_settings_exit_2_naming_the_key(string line, string key, string problem)
    {
        string path = _scratch.Write("ports.conf", line + "\n");

        var (exit, _, error) = Invoke("run", "--config", path);

        Assert.Equal(2, exit);
        Assert.Contains(key, error, StringComparison.Ordinal);
        Assert.Contains(problem, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_config_file_with_an_unknown_key_exits_2_naming_the_key()
    {
        string path = _scratch.Write("typo.conf", "datapath.emc-entires = 4096\n");

        var (exit, report, error) = Invoke("run", "--config", path);

        Assert.Equal(2, exit);
        Assert.Empty(report);
        Assert.Contains("datapath.emc-entires", error, StringComparison.Ordinal);
        Assert.Contains(path, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--duration", "0")]
    [InlineData("--pmds", "0")]
    [InlineData("--connections", "-5")]
    public void A_count_that_is_not_positive_exits_2(string option, string value)
    {
        var (exit, report, error) = Invoke("run", option, value);

        Assert.Equal(2, exit);
        Assert.Empty(report);
        Assert.Contains(option, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_format_json_prints_one_object_whose_packets_balance_on_a_generator_run()
    {
        var (exit, report, error) = Invoke("run", "--duration", "1", "--pmds", "2", "--connections", "20", "--format", "json");

        Assert.Equal(0, exit);
        Assert.Empty(error);
        using var summary = JsonDocument.Parse(report);
        var root = summary.RootElement;
        var packets = root.GetProperty("packets");
        long received = packets.GetProperty("received").GetInt64();
        long dropped = root.GetProperty("drops").EnumerateObject().Sum(d => d.Value.GetInt64());
        Assert.True(received > 0);
        Assert.Equal(received, packets.GetProperty("sent").GetInt64() + dropped + packets.GetProperty("held").GetInt64());
        Assert.Equal(dropped, packets.GetProperty("dropped").GetInt64());
        Assert.True(packets.GetProperty("balances").GetBoolean());

        // The ports' own counters say the same: every frame a port received, less the drops, left one.
        var ports = root.GetProperty("ports").EnumerateArray().ToList();
        Assert.Equal(2, ports.Count);
        Assert.Equal(received, ports.Sum(p => p.GetProperty("rx_packets").GetInt64() + p.GetProperty("rx_dropped_overload").GetInt64() + p.GetProperty("rx_dropped_pool_empty").GetInt64() + p.GetProperty("rx_dropped_too_long").GetInt64()));
        Assert.Equal(packets.GetProperty("transmitted").GetInt64(), ports.Sum(p => p.GetProperty("tx_packets").GetInt64()));
        var pmds = root.GetProperty("pmd_stats").EnumerateArray().ToList();
        Assert.Equal(2, pmds.Count);
        Assert.Equal(
            pmds.Sum(p => p.GetProperty("packets_received").GetInt64()),
            pmds.Sum(p => p.GetProperty("packets_sent").GetInt64() + p.GetProperty("packets_dropped").GetInt64() + p.GetProperty("packets_held").GetInt64()));

        // Every pass (received or recirculated) was an EMC, megaflow or bypass hit or an upcall: the progress line's shares cover all.
        Assert.All(pmds, p => Assert.Equal(
            p.GetProperty("packets_received").GetInt64() + p.GetProperty("recirculations").GetInt64(),
            p.GetProperty("emc_hits").GetInt64() + p.GetProperty("megaflow_hits").GetInt64() + p.GetProperty("bypass_hits").GetInt64() + p.GetProperty("upcalls_ok").GetInt64() + p.GetProperty("upcalls_failed").GetInt64()));
    }

    [PinningFact]
    public void A_run_with_a_pmd_cpu_mask_pins_each_pmd_and_names_it_by_its_core()
    {
        int cpu = Actors.Pmd.CpuAffinity.OfCurrentThread()[^1];
        string mask = "0x" + (1 << (cpu % 4)).ToString(CultureInfo.InvariantCulture) + new string('0', cpu / 4);
        string path = _scratch.Write("pinned.conf", $"datapath.pmd-dedicated-threads = on\ndatapath.pmd-cpu-mask = \"{mask}\"\ndatapath.pmds = 0\n");

        var (exit, report, error) = Invoke("run", "--config", path, "--duration", "1", "--connections", "20", "--format", "json");
        var (textExit, text, _) = Invoke("run", "--config", path, "--duration", "1", "--connections", "20");

        Assert.Equal(0, exit);
        Assert.Empty(error);
        using var summary = JsonDocument.Parse(report);
        var pmd = Assert.Single(summary.RootElement.GetProperty("pmd_stats").EnumerateArray());
        Assert.Equal(cpu, pmd.GetProperty("core_id").GetInt32());
        Assert.True(pmd.GetProperty("packets_received").GetInt64() > 0);
        Assert.Equal(0, textExit);
        Assert.Contains($"0 (core_id {cpu})", text, StringComparison.Ordinal);
    }

    /// <summary>
    /// The issue's case: tcp-reverse.pcap through the firewall, 45 frames received and 33 sent;
    /// the 12 the firewall drops (Open vSwitch's verdicts) are counted as "drop action".
    /// </summary>
    [Fact]
    public void A_pcap_run_counts_the_firewalls_drops_by_reason_and_its_packets_balance()
    {
        string capture = Datapath.Tests.Support.TestData.Capture("tcp-reverse.pcap");
        string path = _scratch.Write("reverse.conf", $"datapath.ports = pcap\ndatapath.pcap {{ rx = \"{capture}\" }}\n");
        var verdicts = File.ReadAllLines(Datapath.Tests.Support.TestData.Capture(Path.Combine("expected", "tcp-reverse.verdict")));

        var (exit, report, error) = Invoke("run", "--config", path, "--duration", "1", "--pmds", "1", "--format", "json");

        Assert.Equal(0, exit);
        Assert.Empty(error);
        using var summary = JsonDocument.Parse(report);
        var packets = summary.RootElement.GetProperty("packets");
        Assert.Equal(verdicts.Length, packets.GetProperty("received").GetInt64());
        Assert.Equal(verdicts.Count(v => !v.EndsWith("drop", StringComparison.Ordinal)), packets.GetProperty("sent").GetInt64());
        Assert.Equal(verdicts.Count(v => v.EndsWith("drop", StringComparison.Ordinal)), summary.RootElement.GetProperty("drops").GetProperty("drop action").GetInt64());
        Assert.Equal(0, packets.GetProperty("held").GetInt64());
        Assert.True(packets.GetProperty("balances").GetBoolean());
    }

    [Fact]
    public void The_text_summary_says_where_every_packet_went()
    {
        string capture = Datapath.Tests.Support.TestData.Capture("tcp-reverse.pcap");
        string path = _scratch.Write("reverse.conf", $"datapath.ports = pcap\ndatapath.pcap {{ rx = \"{capture}\" }}\n");
        var verdicts = File.ReadAllLines(Datapath.Tests.Support.TestData.Capture(Path.Combine("expected", "tcp-reverse.verdict")));
        int drops = verdicts.Count(v => v.EndsWith("drop", StringComparison.Ordinal));

        var (exit, report, _) = Invoke("run", "--config", path, "--duration", "1", "--pmds", "1");

        Assert.Equal(0, exit);
        Assert.Contains($"packets: {verdicts.Length} received = {verdicts.Length - drops} sent + {drops} dropped + 0 held", report, StringComparison.Ordinal);
        Assert.Matches(@"drop action\s*\S*\s*0\s*\S*\s*" + drops.ToString(System.Globalization.CultureInfo.InvariantCulture) + @"\s*\S*\s*" + drops.ToString(System.Globalization.CultureInfo.InvariantCulture), report);
    }

    /// <summary>
    /// A bridge with no flows (an empty flow file): every packet is a table miss, dropped and counted
    /// as Open vSwitch does; the PMDs start on the empty table and the run ends with its summary
    /// (it used to wait for a first table that never came, then die of an AskTimeoutException).
    /// </summary>
    [Fact]
    public void An_empty_flow_table_drops_every_packet_as_a_drop_action_and_the_run_ends_with_its_summary()
    {
        string flows = _scratch.Write("empty.flows", string.Empty);
        string path = _scratch.Write("empty-flows.conf", $"datapath.flows = \"{flows}\"\n");

        var (exit, report, error) = Invoke("run", "--config", path, "--duration", "1", "--pmds", "2", "--connections", "20", "--control", "off", "--format", "json");

        Assert.True(exit == 0, error);
        Assert.Empty(error);
        using var summary = JsonDocument.Parse(report);
        var packets = summary.RootElement.GetProperty("packets");
        long received = packets.GetProperty("received").GetInt64();
        Assert.True(received > 0, "the generator's first frames were received");
        Assert.Equal(0, packets.GetProperty("sent").GetInt64());
        Assert.Equal(received, summary.RootElement.GetProperty("drops").GetProperty("drop action").GetInt64());
        Assert.True(packets.GetProperty("balances").GetBoolean());
    }

    [Fact]
    public void A_run_too_short_for_its_connections_warns_that_its_traffic_did_not_warm_up()
    {
        // Paced at 100 frames a second, a second cannot give 1,000 connections a frame each.
        string path = _scratch.Write("slow.conf", "datapath.generator.rate-pps = 100\n");

        var (exit, report, error) = Invoke("run", "--config", path, "--duration", "1", "--pmds", "2", "--connections", "1000", "--control", "off", "--format", "json");

        Assert.True(exit == 0, error);
        using var summary = JsonDocument.Parse(report);
        long received = summary.RootElement.GetProperty("packets").GetProperty("received").GetInt64();
        Assert.InRange(received, 1, 999);
        using var warning = JsonDocument.Parse(error);
        string message = warning.RootElement.GetProperty("error").GetProperty("message").GetString()!;
        Assert.StartsWith($"warning: only {received} packets for 1000 connections in ", message, StringComparison.Ordinal);
        Assert.EndsWith(" s: the run ended before its traffic warmed up; give a longer --duration or fewer --connections", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_that_received_nothing_says_so_and_exits_1()
    {
        // A capture with its header and no frame: nothing can go through.
        string capture = Path.Combine(_scratch.Path, "empty.pcap");
        File.WriteAllBytes(capture, [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0]);
        string path = _scratch.Write("empty.conf", $"datapath.ports = pcap\ndatapath.pcap {{ rx = \"{capture}\" }}\n");

        var (exit, report, error) = Invoke("run", "--config", path, "--duration", "2", "--pmds", "1");

        Assert.Equal(1, exit);
        Assert.Contains("throughput:", report, StringComparison.Ordinal);
        Assert.StartsWith("run: no packet was received", error, StringComparison.Ordinal);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("--duration", "NaN")]
    [InlineData("--duration", "Infinity")]
    [InlineData("--duration", "-Infinity")]
    [InlineData("--duration", "1e300")]
    [InlineData("--duration", "86401")]
    [InlineData("--duration", "abc")]
    [InlineData("--pmds", "2000")]
    [InlineData("--pmds", "2147483647")]
    [InlineData("--pmds", "99999999999")]
    [InlineData("--connections", "2147483647")]
    [InlineData("--connections", "1000001")]
    public void An_option_beyond_its_keys_bounds_gets_one_error_line_naming_it(string option, string value)
    {
        var (exit, report, error) = Invoke("run", option, value);

        Assert.Equal(2, exit);
        Assert.Empty(report);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("run: ", error, StringComparison.Ordinal);
        Assert.Contains(option, error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
    }

    [Fact]
    public void With_format_json_an_error_is_one_json_object()
    {
        var (exit, report, error) = Invoke("run", "--pmds", "0", "--format", "json");

        Assert.Equal(2, exit);
        Assert.Empty(report);
        using var json = JsonDocument.Parse(error);
        Assert.Equal("run", json.RootElement.GetProperty("error").GetProperty("command").GetString());
        Assert.Contains("--pmds", json.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_progress_line_shows_bypass_hits_so_its_shares_cover_every_pass()
    {
        var interval = new Host.MainJob.JobProgress(TimeSpan.FromSeconds(3), 1000, 1200, 84, 12, 1080, 24, 7, 1);

        string line = Host.MainJob.JobReport.ProgressLine(interval);

        var shares = System.Text.RegularExpressions.Regex.Matches(line, @"(emc|megaflow|bypass)\s+(\d+\.\d)%").ToDictionary(m => m.Groups[1].Value, m => double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(["bypass", "emc", "megaflow"], shares.Keys.Order());
        Assert.Equal(90.0, shares["bypass"]);
        Assert.Equal(100.0 - (100.0 * 24 / 1200), shares.Values.Sum(), 1);
        Assert.Contains("upcalls 24", line, StringComparison.Ordinal);
        Assert.Contains("drops 7", line, StringComparison.Ordinal);
    }

    private static (int Exit, string Output, string Error) Invoke(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
