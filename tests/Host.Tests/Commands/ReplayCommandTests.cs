using Datapath.Tests.Support;
using Host.Tests.Support;

namespace Host.Tests.Commands;

public sealed class ReplayCommandTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Theory]
    [InlineData("icmp", "--inline")]
    [InlineData("tcp-rst", "--inline")]
    [InlineData("icmp", "--pmds=1")]
    [InlineData("tcp-rst", "--pmds=2")]
    public void Replay_on_the_embedded_firewall_prints_Open_vSwitch_verdicts(string capture, string mode)
    {
        var (exit, output, error) = Invoke("replay", "--pcap", TestData.Capture(capture + ".pcap"), mode);

        Assert.Equal(0, exit);
        Assert.Empty(error);
        Assert.Equal(File.ReadAllText(TestData.Capture(Path.Combine("expected", capture + ".verdict"))), output.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_flow_file_replaces_the_embedded_firewall()
    {
        string flows = _scratch.Write("allow-all.flows", "in_port=1 actions=output:2\nin_port=2 actions=output:1\n");

        var (exit, output, _) = Invoke("replay", "--pcap", TestData.Capture("tcp-reverse.pcap"), "--flows", flows, "--inline");

        Assert.Equal(0, exit);
        Assert.DoesNotContain("drop", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--inline")]
    [InlineData("--pmds=2")]
    public void An_empty_flow_table_drops_every_frame(string mode)
    {
        string flows = _scratch.Write("empty.flows", "# no flows at all\n");

        var (exit, output, error) = Invoke("replay", "--pcap", TestData.Capture("tcp-reverse.pcap"), "--flows", flows, mode);

        Assert.Equal(0, exit);
        Assert.Empty(error);
        var lines = output.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Equal(File.ReadAllLines(TestData.Capture(Path.Combine("expected", "tcp-reverse.verdict"))).Length, lines.Length);
        Assert.All(lines, l => Assert.EndsWith(" -> drop", l, StringComparison.Ordinal));
    }

    [Fact]
    public void A_bad_flow_file_exits_1_naming_file_line_and_column()
    {
        string flows = _scratch.Write("bad.flows", "in_port=1 actions=output:2\nin_prot=2 actions=output:1\n");

        var (exit, output, error) = Invoke("replay", "--pcap", TestData.Capture("icmp.pcap"), "--flows", flows);

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.StartsWith("bad.flows:2:1:", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_capture_exits_1_naming_it()
    {
        string missing = Path.Combine(_scratch.Path, "absent.pcap");

        var (exit, _, error) = Invoke("replay", "--pcap", missing);

        Assert.Equal(1, exit);
        Assert.Contains("absent.pcap", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Frames_of_other_hosts_are_reported_as_skipped()
    {
        string verdicts = Path.Combine(_scratch.Path, "out.verdict");

        var (exit, _, error) = Invoke("replay", "--pcap", TestData.Capture("udp-dns.pcap"), "--port1-mac", "02:00:00:00:00:01", "--port2-mac", "02:00:00:00:00:99", "--verdicts", verdicts, "--inline");

        Assert.Equal(0, exit);
        Assert.Empty(error);
        var lines = File.ReadAllLines(verdicts);
        Assert.Equal(42, lines.Length);
        Assert.All(lines.Where(l => l.Contains(" - -> ", StringComparison.Ordinal)), l => Assert.EndsWith("skipped", l, StringComparison.Ordinal));
        Assert.Equal(21, lines.Count(l => l.EndsWith("skipped", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_bad_capture_leaves_the_verdicts_file_as_it_was(bool inline)
    {
        string verdicts = _scratch.Write("kept.verdict", "1 1 -> 2\n");
        // A capture cut in the middle of its second record: the header and first record are good.
        byte[] good = File.ReadAllBytes(TestData.Capture("udp-dns.pcap"));
        string bad = _scratch.Write("cut.pcap", good[..(24 + 16 + 60 + 20)]);

        var (exit, _, error) = Invoke(["replay", "--pcap", bad, "--verdicts", verdicts, .. inline ? new[] { "--inline" } : []]);

        Assert.Equal(1, exit);
        Assert.StartsWith("replay: ", error, StringComparison.Ordinal);
        Assert.Equal("1 1 -> 2\n", File.ReadAllText(verdicts));
        Assert.False(File.Exists(verdicts + ".partial"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_verdicts_file_that_cannot_be_written_is_named_with_its_option_not_the_capture(bool inline)
    {
        // A directory where the verdicts are first written: refused even to root, on any system.
        string verdicts = Path.Combine(_scratch.Path, "out.verdict");
        Directory.CreateDirectory(verdicts + ".partial");

        var (exit, output, error) = Invoke(["replay", "--pcap", TestData.Capture("icmp.pcap"), "--verdicts", verdicts, .. inline ? new[] { "--inline" } : []]);

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Equal($"replay: --verdicts: {verdicts}.partial is a directory, not a file", error.Trim());
        Assert.False(File.Exists(verdicts));
    }

    [Fact]
    public async Task Verdicts_to_a_named_pipe_go_down_the_pipe_which_stays_a_pipe()
    {
        // A device or FIFO is written as it is: moving the verdicts' file over it, as a file is
        // replaced, turned it into a regular file (run as root, even /dev/null).
        string fifo = Path.Combine(_scratch.Path, "verdicts.fifo");
        Assert.Equal(0, Mono.Unix.Native.Syscall.mkfifo(fifo, Mono.Unix.Native.FilePermissions.S_IRUSR | Mono.Unix.Native.FilePermissions.S_IWUSR));
        var reading = Task.Run(() => File.ReadAllText(fifo));

        var (exit, _, error) = Invoke("replay", "--pcap", TestData.Capture("icmp.pcap"), "--inline", "--verdicts", fifo);

        Assert.True(exit == 0, error);
        Assert.Equal(File.ReadAllText(TestData.Capture(Path.Combine("expected", "icmp.verdict"))), (await reading.WaitAsync(TimeSpan.FromSeconds(60))).ReplaceLineEndings("\n"));
        Assert.Equal(0, Mono.Unix.Native.Syscall.stat(fifo, out var stat));
        Assert.Equal(Mono.Unix.Native.FilePermissions.S_IFIFO, stat.st_mode & Mono.Unix.Native.FilePermissions.S_IFMT);
        Assert.False(File.Exists(fifo + ".partial"));
    }

    [Fact]
    public void A_transmit_directory_that_is_a_file_is_named_with_its_option_not_the_capture()
    {
        string notDirectory = _scratch.Write("tx", "a file\n");

        var (exit, _, error) = Invoke("replay", "--inline", "--pcap", TestData.Capture("icmp.pcap"), "--tx-pcap-dir", notDirectory);

        Assert.Equal(1, exit);
        Assert.Equal($"replay: --tx-pcap-dir: {notDirectory} is a file, not a directory", error.Trim());
    }

    [Fact]
    public void A_directory_given_as_the_capture_is_named_as_one()
    {
        var (exit, _, error) = Invoke("replay", "--pcap", _scratch.Path);

        Assert.Equal(1, exit);
        Assert.Equal($"replay: --pcap: {_scratch.Path} is a directory, not a capture", error.Trim());
    }

    [Theory]
    [InlineData("5000")]
    [InlineData("0")]
    [InlineData("2147483647")]
    public void A_pmd_count_beyond_datapath_pmds_bounds_is_one_error_line(string pmds)
    {
        var (exit, output, error) = Invoke("replay", "--pcap", TestData.Capture("udp-dns.pcap"), "--pmds", pmds);

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--pmds", error, StringComparison.Ordinal);
    }

    [Fact]
    public void One_MAC_for_both_ports_is_refused()
    {
        var (exit, output, error) = Invoke("replay", "--pcap", TestData.Capture("udp-dns.pcap"), "--port1-mac", "02:00:00:00:00:07", "--port2-mac", "02:00:00:00:00:07");

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Contains("--port1-mac and --port2-mac are the same", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nonexistent.flows")]
    [InlineData("some/dir/firewall.flows")]
    public void Dump_flows_of_a_file_that_is_not_there_says_it_is_missing(string name)
    {
        var (exit, output, error) = Invoke("dump-flows", Path.Combine(_scratch.Path, name));

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Equal($"dump-flows: {Path.Combine(_scratch.Path, name)}: no such file", error.Trim());
    }

    [Fact]
    public void Dump_flows_of_a_directory_says_it_is_one()
    {
        var (exit, _, error) = Invoke("dump-flows", _scratch.Path);

        Assert.Equal(1, exit);
        Assert.Equal($"dump-flows: {_scratch.Path} is a directory, not a flow file", error.Trim());
    }

    [Fact]
    public void A_bad_MAC_address_exits_2()
    {
        var (exit, _, error) = Invoke("replay", "--pcap", TestData.Capture("udp-dns.pcap"), "--port1-mac", "02:00:00:00:01");

        Assert.Equal(2, exit);
        Assert.Contains("MAC address", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_connection_table_can_be_dumped_after_a_replay_in_Open_vSwitch_format()
    {
        var (exit, output, error) = Invoke("replay", "--pcap", TestData.Capture("udp-dns.pcap"), "--dump-conntrack", "--pmds=1");

        Assert.Equal(0, exit);
        Assert.Empty(error);
        var dump = output.ReplaceLineEndings("\n").Split('\n').Where(l => l.StartsWith("udp,", StringComparison.Ordinal)).ToList();
        Assert.Equal(20, dump.Count);
        Assert.All(dump, l => Assert.Matches(@"^udp,orig=\(src=10\.0\.0\.1,dst=10\.0\.0\.2,sport=\d+,dport=53\),reply=\(src=10\.0\.0\.2,dst=10\.0\.0\.1,sport=53,dport=\d+\)$", l));
        Assert.Contains("shard 0: ", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, 20, 0)]
    [InlineData("0", 20, 0)]
    [InlineData("5", 0, 20)]
    public void Flushing_conntrack_empties_the_zone_asked_for(string? zone, int flushed, int left)
    {
        string[] flush = zone is null ? ["--flush-conntrack"] : ["--flush-conntrack", zone];

        var (exit, output, error) = Invoke(["replay", "--pcap", TestData.Capture("udp-dns.pcap"), "--pmds=1", .. flush, "--dump-conntrack"]);

        Assert.Equal(0, exit);
        Assert.Empty(error);
        Assert.Contains($"flushed {flushed} connection(s)", output, StringComparison.Ordinal);
        Assert.Equal(left, output.ReplaceLineEndings("\n").Split('\n').Count(l => l.StartsWith("udp,", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_bad_flush_zone_exits_2()
    {
        var (exit, _, error) = Invoke("replay", "--pcap", TestData.Capture("udp-dns.pcap"), "--flush-conntrack", "zone7");

        Assert.Equal(2, exit);
        Assert.Contains("--flush-conntrack takes a zone", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_inline_NAT_replay_writes_what_left_each_port_and_dumps_the_table_on_the_capture_clock()
    {
        string nat = TestData.Capture("nat");
        string tx = Path.Combine(_scratch.Path, "tx");

        var (exit, output, error) = Invoke(
            "replay", "--inline", "--pcap", Path.Combine(nat, "snat-tcp.pcap"), "--flows", Path.Combine(nat, "nat.flows"),
            "--tx-pcap-dir", tx, "--dump-conntrack", "-s");

        Assert.Equal(0, exit);
        Assert.Empty(error);
        string expectedVerdicts = File.ReadAllText(Path.Combine(nat, "expected", "snat-tcp.verdict"));
        Assert.Equal(expectedVerdicts + File.ReadAllText(Path.Combine(nat, "expected", "snat-tcp.conntrack")), output.ReplaceLineEndings("\n"));
        foreach (string port in new[] { "port1", "port2" })
        {
            Assert.Equal(Frames(Path.Combine(nat, "expected", $"snat-tcp.{port}.pcap")), Frames(Path.Combine(tx, port + ".pcap")));
        }
    }

    [Fact]
    public void Writing_what_left_the_ports_needs_the_inline_replay_for_now()
    {
        var (exit, _, error) = Invoke("replay", "--pcap", TestData.Capture("icmp.pcap"), "--tx-pcap-dir", _scratch.Path);

        Assert.Equal(2, exit);
        Assert.Contains("--tx-pcap-dir and --statistics need --inline", error, StringComparison.Ordinal);
    }

    private static List<string> Frames(string pcap)
    {
        using var reader = Datapath.Packets.Pcap.PcapReader.Open(pcap);
        var frames = new List<string>();
        while (reader.TryReadNext(out _))
        {
            frames.Add(Convert.ToHexString(reader.CurrentFrame));
        }

        return frames;
    }

    private static (int Exit, string Output, string Error) Invoke(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
