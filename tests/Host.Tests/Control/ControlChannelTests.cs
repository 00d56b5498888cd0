using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Host.Tests.Support;

namespace Host.Tests.Control;

/// <summary>One running datapath (the firewall of DESIGN.md on generator ports) shared by these tests, commanded through its control socket.</summary>
public sealed class SharedDatapathFixture : IAsyncLifetime
{
    public RunningDatapath Datapath { get; private set; } = null!;

    public async Task InitializeAsync() => Datapath = await RunningDatapath.StartAsync();

    public async Task DisposeAsync() => await Datapath.DisposeAsync();
}

/// <summary>
/// The control channel against a live datapath: flow changes under traffic change verdicts, the
/// datapath's megaflows and connections can be dumped and parsed, counters cleared, and no
/// request, however bad, stops the server.
/// </summary>
public sealed partial class ControlChannelTests(SharedDatapathFixture fixture) : IClassFixture<SharedDatapathFixture>
{
    private const string ForwardFromPort1 = "ct_state=+est+trk,ip,in_port=1 actions=output:2";
    private readonly RunningDatapath _datapath = fixture.Datapath;

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void The_control_socket_is_readable_and_writable_by_its_owner_only()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_datapath.Socket));
    }

    [Fact]
    public async Task A_drop_flow_added_under_traffic_stops_forwarding_and_deleting_it_resumes_forwarding()
    {
        await RunningDatapath.Eventually(() => _datapath.Packets(ForwardFromPort1) > 0, "traffic forwarded from port 1");

        _datapath.Ok("add-flow", "table=0,priority=200,ip,in_port=1 actions=drop");
        const string drop = "priority=200,ip,in_port=1 actions=drop";

        // Once the drop rule counts packets, nothing more from port 1 is forwarded: two dumps with
        // the drop counter moving in between show the same forwarded count.
        long forwarded = -1;
        for (int look = 0; look < 100 && forwarded < 0; look++)
        {
            long before = _datapath.Packets(ForwardFromPort1);
            long dropped = _datapath.Packets(drop);
            await RunningDatapath.Eventually(() => _datapath.Packets(drop) > dropped, "the drop rule to count more packets");
            if (dropped > 0 && _datapath.Packets(ForwardFromPort1) == before)
            {
                forwarded = before;
            }
        }

        Assert.True(forwarded >= 0, "forwarding from port 1 went on while the drop rule counted");

        _datapath.Ok("del-flows", "table=0,priority=200,ip,in_port=1", "--strict");
        Assert.DoesNotContain(drop, _datapath.Ok("dump-flows"), StringComparison.Ordinal);
        await RunningDatapath.Eventually(() => _datapath.Packets(ForwardFromPort1) > forwarded, "forwarding from port 1 to resume");
    }

    [Fact]
    public void Mod_flows_changes_the_actions_of_the_selected_flow_and_a_bad_flow_is_refused()
    {
        _datapath.Ok("add-flow", "table=0,priority=5,udp,tp_dst=9 actions=drop");
        _datapath.Ok("mod-flows", "table=0,priority=5,udp,tp_dst=9", "output:2", "--strict");
        Assert.Contains("priority=5,udp,tp_dst=9 actions=output:2", _datapath.Ok("dump-flows", "table=0,udp"), StringComparison.Ordinal);
        _datapath.Ok("del-flows", "table=0,udp,tp_dst=9");
        Assert.DoesNotContain("tp_dst=9", _datapath.Ok("dump-flows"), StringComparison.Ordinal);

        var (exit, _, error) = _datapath.Call("add-flow", "table=0,no_such_field=1 actions=drop");
        Assert.Equal(1, exit);
        Assert.Contains("no_such_field", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Add_flows_and_replace_flows_answer_in_json_and_with_format_json_errors_are_json_too()
    {
        string file = _datapath.Scratch.Write("more.flows", "table=0,priority=5,udp,tp_dst=7 actions=drop\n");
        var added = _datapath.Json("add-flows", file);
        Assert.Equal(System.Text.Json.JsonValueKind.Object, added.ValueKind);
        Assert.Contains("tp_dst=7", _datapath.Ok("dump-flows", "table=0,udp"), StringComparison.Ordinal);

        var (exit, output, error) = _datapath.Call("add-flow", "table=0,no_such_field=1 actions=drop", "--format", "json");
        Assert.Equal(1, exit);
        Assert.Empty(output);
        using var json = System.Text.Json.JsonDocument.Parse(error);
        Assert.Equal("add-flow", json.RootElement.GetProperty("error").GetProperty("command").GetString());
        Assert.Contains("no_such_field", json.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);

        var (missingExit, _, missing) = _datapath.Call("replace-flows", Path.Combine(_datapath.Scratch.Path, "absent.flows"), "--format", "json");
        Assert.Equal(1, missingExit);
        Assert.EndsWith("absent.flows: no such file", System.Text.Json.JsonDocument.Parse(missing).RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Dump_flows_with_a_match_shows_only_the_flows_it_selects_and_json_carries_the_counters()
    {
        var flows = _datapath.Json("dump-flows", "in_port=2").GetProperty("flows").EnumerateArray().ToList();

        Assert.Equal(2, flows.Count);
        Assert.All(flows, f => Assert.Contains("in_port=2", f.GetProperty("match").GetString(), StringComparison.Ordinal));
        Assert.All(flows, f => Assert.Equal(1, f.GetProperty("table").GetInt32()));
        Assert.All(flows, f => Assert.True(f.GetProperty("n_packets").GetInt64() >= 0));
    }

    [Fact]
    public void The_megaflows_of_each_pmd_read_as_dpctl_dump_flows_and_del_flows_removes_them()
    {
        string text = _datapath.Ok("dpctl/dump-flows");
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("flow-dump from pmd on cpu core: ", StringComparison.Ordinal));
        var flows = lines.Where(l => !l.StartsWith("flow-dump", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(flows);
        Assert.All(flows, l => Assert.Matches(DpctlFlow(), l));
        Assert.Contains(flows, l => l.Contains("recirc_id(0)", StringComparison.Ordinal) && l.EndsWith("actions:ct,recirc(0x1)", StringComparison.Ordinal));

        var json = _datapath.Json("dpctl/dump-flows").GetProperty("pmds").EnumerateArray().SelectMany(p => p.GetProperty("flows").EnumerateArray()).ToList();
        Assert.Contains(json, f => f.GetProperty("packets").GetInt64() > 0);

        var deleted = _datapath.Json("dpctl/del-flows");
        Assert.True(deleted.GetProperty("removed").GetInt32() > 0);
    }

    [Fact]
    public async Task Connections_dump_as_dpctl_dump_conntrack_lines_and_flush_removes_them()
    {
        string[] lines = [];
        await RunningDatapath.Eventually(() => (lines = _datapath.Ok("dump-conntrack").Split('\n', StringSplitOptions.RemoveEmptyEntries)).Length > 0, "connections");
        Assert.All(lines, l => Assert.Matches(ConntrackLine(), l));
        Assert.Equal(0, _datapath.Json("dump-conntrack", "zone=7").GetProperty("connections").GetArrayLength());

        // As JSON, each connection is its fields: protocol, both directions' tuples, numbers as numbers.
        var connections = _datapath.Json("dump-conntrack").GetProperty("connections").EnumerateArray().ToList();
        Assert.NotEmpty(connections);
        Assert.All(connections, c =>
        {
            Assert.Contains(c.GetProperty("protocol").GetString(), new[] { "tcp", "udp", "icmp" });
            Assert.Equal(System.Text.Json.JsonValueKind.String, c.GetProperty("orig").GetProperty("src").ValueKind);
            Assert.Equal(System.Text.Json.JsonValueKind.String, c.GetProperty("reply").GetProperty("dst").ValueKind);
        });
        Assert.Contains(connections, c => c.GetProperty("protocol").GetString() != "icmp" && c.GetProperty("orig").GetProperty("dport").GetInt32() > 0);

        var flushed = _datapath.Json("flush-conntrack", "zone=0");
        Assert.True(flushed.GetProperty("flushed").GetInt32() > 0);

        var (exit, _, error) = _datapath.Call("dump-conntrack", "zone=99999");
        Assert.Equal(1, exit);
        Assert.Contains("not a zone", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Pmd_stats_show_says_where_every_packet_each_pmd_received_went()
    {
        string text = _datapath.Ok("pmd-stats-show");

        var blocks = text.Split("pmd thread ", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, blocks.Length);
        foreach (string block in blocks)
        {
            long received = Counter(block, "packets received");
            long dropped = Counter(block, "packets dropped");
            var reasons = System.Text.RegularExpressions.Regex.Matches(block, @"\n    [^:\n]+: (\d+)(?=\n)").Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(received > 0);
            Assert.Equal(received, Counter(block, "packets sent") + dropped + Counter(block, "packets held"));
            Assert.Equal(dropped, reasons.Sum());
        }
    }

    private static long Counter(string block, string name) =>
        long.Parse(System.Text.RegularExpressions.Regex.Match(block, $@"\n  {name}: (\d+)\n").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Pmd_stats_clear_starts_the_counters_again_from_zero()
    {
        // Traffic is unpaced and the run may have started just before this test: wait until the
        // counters hold many times what arrives during one look (as much comes between the clear
        // and the look after it), measured on this machine as it is now.
        var (before, _) = await TestSupport.Waiting.Eventually.Until(
            () =>
            {
                long first = Received(_datapath.Ok("pmd-stats-show"));
                long second = Received(_datapath.Ok("pmd-stats-show"));
                return Task.FromResult((Total: second, PerLook: second - first));
            },
            counts => counts.Total > 0 && counts.Total > 20 * counts.PerLook,
            "counters holding many looks' worth of traffic");

        _datapath.Ok("pmd-stats-clear");

        Assert.True(Received(_datapath.Ok("pmd-stats-show")) < before);
        var pmds = _datapath.Json("pmd-stats-show").GetProperty("pmds");
        Assert.Equal(2, pmds.GetArrayLength());
        Assert.Matches(@"  port: p1 +queue-id:  0 \(enabled\)   pmd usage: ( ?\d+ %|NOT AVAIL)\n", _datapath.Ok("pmd-rxq-show"));
    }

    [Fact]
    public void A_trace_walks_the_live_tables()
    {
        string trace = _datapath.Ok("ofproto/trace", "in_port=1,tcp,nw_src=10.0.0.1,nw_dst=10.1.0.1", "--ct-next", "trk,est");

        Assert.Contains("Datapath actions: 2", trace, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_thousand_malformed_requests_get_errors_and_the_server_keeps_serving()
    {
        string[] bad =
        [
            "not json",
            "{\"jsonrpc\":\"2.0\",\"method\":\"no-such-command\",\"id\":1}",
            "{\"jsonrpc\":\"1.0\",\"method\":\"show\",\"id\":2}",
            "{\"jsonrpc\":\"2.0\",\"method\":\"dump-flows\",\"params\":[1,2],\"id\":3}",
            "{\"jsonrpc\":\"2.0\",\"method\":\"del-flows\",\"params\":[\"a\",\"b\",\"c\"],\"id\":4}",
            "[1,2,3]",
            "{\"jsonrpc\":\"2.0\",\"method\":\"add-flow\",\"params\":[\"table=0,bogus actions=drop\"],\"id\":5}",
            "{\"jsonrpc\":\"2.0\",\"method\":42,\"id\":6}",
        ];
        var lines = Enumerable.Range(0, 1000).Select(i => bad[i % bad.Length]).Append("{\"jsonrpc\":\"2.0\",\"method\":\"list-commands\",\"id\":\"last\"}");

        var answers = await _datapath.RawAsync(lines, 1001);

        Assert.Equal(1001, answers.Count);
        Assert.All(answers.Take(1000), a => Assert.True(a.GetProperty("error").GetProperty("code").GetInt32() < 0));
        Assert.Equal("last", answers[^1].GetProperty("id").GetString());
        Assert.True(answers[^1].TryGetProperty("result", out _));
        Assert.Contains("dump-flows", _datapath.Ok("list-commands"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_oversized_request_gets_an_error_and_its_connection_is_closed()
    {
        string huge = "{\"jsonrpc\":\"2.0\",\"method\":\"add-flows\",\"params\":[\"" + new string('x', 17 << 20) + "\"],\"id\":1}";

        var answers = await _datapath.RawAsync([huge, "{\"jsonrpc\":\"2.0\",\"method\":\"list-commands\",\"id\":2}"], 2);

        var error = Assert.Single(answers);
        Assert.Equal(-32002, error.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(0, _datapath.Call("list-commands").Exit);
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_request_leaves_the_server_serving()
    {
        for (int i = 0; i < 20; i++)
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(_datapath.Socket));
            await socket.SendAsync("{\"jsonrpc\":\"2.0\",\"method\":\"dpctl/dump-flows\",\"id\":1}\n{\"jsonrpc\":"u8.ToArray());
        }

        // More clients than the server serves at once were left behind: their requests finish
        // or time out, their connections close, and the server has room again.
        await RunningDatapath.Eventually(() => _datapath.Call("pmd-stats-show").Exit == 0, "the server to serve again");
    }

    [Fact]
    public async Task A_second_datapath_on_a_live_socket_is_refused()
    {
        var (output, error) = (new StringWriter(), new StringWriter());

        int exit = await OwnThread.Run(() => Program.Run(["run", "--control", _datapath.Socket, "--duration", "1", "--pmds", "1"], output, error));

        Assert.Equal(1, exit);
        Assert.Contains($"another datapath is listening on {_datapath.Socket}", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, _datapath.Call("list-commands").Exit);
    }

    private static long Received(string pmdStats) =>
        Received().Matches(pmdStats).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"packets received: (\d+)")]
    private static partial Regex Received();

    [GeneratedRegex(@"^\S+, packets:\d+, bytes:\d+, used:(never|\d+\.\d{3}s)(, flags:\S+)?, actions:\S+$")]
    private static partial Regex DpctlFlow();

    [GeneratedRegex(@"^(tcp|udp|icmp),orig=\(src=[\d.]+,dst=[\d.]+,.*\),reply=\(src=[\d.]+,dst=[\d.]+,.*\)")]
    private static partial Regex ConntrackLine();
}
