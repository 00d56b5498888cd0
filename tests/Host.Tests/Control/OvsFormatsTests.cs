using System.Buffers;
using System.Diagnostics;
using System.Text;
using Host.Control;

namespace Host.Tests.Control;

/// <summary>
/// Open vSwitch's formats without a datapath: unixctl's JSON-RPC 1.0 messages (lib/jsonrpc.c),
/// vlog/list and vlog/set (lib/vlog.c), coverage/show (lib/coverage.c) and pmd-rxq-show
/// (lib/dpif-netdev.c), from readings made up here.
/// </summary>
public sealed class OvsFormatsTests
{
    [Fact]
    public void An_ovs_appctl_request_parses_and_its_answers_are_unixctls()
    {
        var request = OvsJsonRpc.Parse(Sequence("{\"method\":\"dpctl/dump-conntrack\",\"params\":[\"zone=5\"],\"id\":0}"));

        Assert.Equal(("dpctl/dump-conntrack", "0"), (request.Method, request.Id));
        Assert.Equal(["zone=5"], request.Params!);
        Assert.Equal("{\"id\":0,\"result\":\"a\\\"b\\n\",\"error\":null}", Encoding.UTF8.GetString(OvsJsonRpc.Result("0", "a\"b")));
        Assert.Equal("{\"id\":3,\"result\":null,\"error\":\"bad\\n\"}", Encoding.UTF8.GetString(OvsJsonRpc.Error("3", "bad\n")));
        Assert.Null(OvsJsonRpc.Parse(Sequence("{\"method\":\"x\",\"params\":[1],\"id\":1}")).Params);
    }

    [Theory]
    [InlineData("[1]")]
    [InlineData("{\"method\":\"x\",\"params\":[]}")]
    [InlineData("{\"method\":\"x\",\"params\":[],\"id\":null}")]
    [InlineData("{\"method\":\"x\",\"params\":{},\"id\":1}")]
    [InlineData("{\"method\":\"x\",\"params\":[],\"id\":1,\"extra\":2}")]
    [InlineData("{\"result\":\"x\",\"error\":null,\"id\":1}")]
    public void A_message_that_is_not_a_request_is_a_protocol_error(string json)
    {
        Assert.Throws<OvsProtocolException>(() => OvsJsonRpc.Parse(Sequence(json)));
    }

    [Theory]
    [InlineData("{\"method\":\"echo\",\"params\":[\"\\ud800\"],\"id\":1}")]
    [InlineData("{\"m\\udc00ethod\":\"echo\",\"params\":[],\"id\":1}")]
    public void A_string_escaping_a_lone_surrogate_is_a_protocol_error(string json)
    {
        // Reading it threw InvalidOperationException, which dropped the client as a bug of ours.
        var e = Assert.Throws<OvsProtocolException>(() => OvsJsonRpc.Parse(Sequence(json)));

        Assert.Contains("lone surrogate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bytes_that_are_not_utf8_in_a_string_are_a_protocol_error()
    {
        // {"method":"echo","params":["<ff>"],"id":1}
        byte[] json = [.. "{\"method\":\"echo\",\"params\":[\""u8, 0xff, .. "\"],\"id\":1}"u8];

        Assert.Throws<OvsProtocolException>(() => OvsJsonRpc.Parse(new ReadOnlySequence<byte>(json)));
    }

    [Fact]
    public void The_scanner_finds_the_end_of_an_object_split_over_reads_with_braces_in_strings()
    {
        var scanner = new JsonObjectScanner();
        string json = "{\"method\":\"a}\\\"{\",\"params\":[[]],\"id\":1}{\"next\":1}";

        Assert.False(scanner.TryComplete(Sequence(json[..12]), out _));
        Assert.True(scanner.TryComplete(Sequence(json), out long length));
        Assert.Equal(json.IndexOf("}{", StringComparison.Ordinal) + 1, length);
    }

    [Fact]
    public void Vlog_set_follows_vlog_c_specs_and_errors_and_list_prints_its_table()
    {
        var log = new VlogModules(TextWriter.Null);
        log.Add("akka", VlogLevel.Warn);

        Assert.Null(log.Set("control:console:dbg"));
        Assert.Null(log.Set("ANY:file:info"));
        Assert.Null(log.Set("akka"));

        Assert.Equal(
            "                 console    syslog    file\n" +
            "                 -------    ------    ------\n" +
            "akka               DBG        DBG        DBG\n" +
            "control            DBG        OFF       INFO\n",
            log.List());
        Assert.Equal("cannot specify multiple levels", log.Set("dbg:info"));
        Assert.Equal("cannot specify multiple destinations", log.Set("console:file"));
        Assert.Equal("no destination, level, or module \"nope\"", log.Set("nope"));
    }

    [Fact]
    public void Only_the_levels_a_module_allows_reach_the_console()
    {
        var console = new StringWriter();
        var log = new VlogModules(console);

        log.Log("control", VlogLevel.Info, "hidden");
        log.Log("control", VlogLevel.Warn, "shown");

        Assert.DoesNotContain("hidden", console.ToString(), StringComparison.Ordinal);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\|control\|WARN\|shown\n$", console.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Coverage_show_averages_over_5_s_a_minute_and_an_hour_and_counts_events_never_hit()
    {
        // Thirteen readings 5 s apart: one event grows by 10 per interval, one never happens.
        var history = Enumerable.Range(0, 13)
            .Select(i => new DatapathSample(i, new Dictionary<string, long> { ["netdev_received"] = 10L * i, ["conntrack_full"] = 0 }, new Dictionary<int, long>(), new Dictionary<(int, uint, int), long>()))
            .ToList();

        string text = CoverageText.Format(history);

        var lines = text.Split('\n');
        Assert.Matches(@"^Event coverage, avg rate over last: 5 seconds, last minute, last hour,  hash=[0-9a-f]{8}:$", lines[0]);
        Assert.Equal("netdev_received            2.0/sec     2.000/sec        0.0333/sec   total: 120", lines[1]);
        Assert.Equal("1 events never hit", lines[2]);
    }

    [Fact]
    public void Pmd_rxq_show_gives_each_queue_its_share_of_the_pmd_time_and_the_rest_as_overhead()
    {
        long start = Stopwatch.GetTimestamp();
        long end = start + Stopwatch.Frequency;
        long second = 1_000_000_000;
        var before = new DatapathSample(start, new Dictionary<string, long>(), new Dictionary<int, long> { [0] = 0 }, new Dictionary<(int, uint, int), long>());
        var now = new DatapathSample(end, new Dictionary<string, long>(), new Dictionary<int, long> { [0] = second / 2 }, new Dictionary<(int, uint, int), long>
        {
            [(0, 1, 0)] = second / 4,
            [(0, 2, 0)] = second / 10,
        });

        var usage = RxqText.Measure([before], now, [0], RxqLayout.Assign([1, 2], 1, 1), new Dictionary<uint, string> { [1] = "p1", [2] = "p2" });

        Assert.Equal(
            "pmd thread numa_id 0 core_id 0:\n" +
            "  isolated : false\n" +
            "  port: p1                queue-id:  0 (enabled)   pmd usage: 25 %\n" +
            "  port: p2                queue-id:  0 (enabled)   pmd usage: 10 %\n" +
            "  overhead: 15 %\n",
            RxqText.Format(usage));
        Assert.Contains("pmd usage: NOT AVAIL", RxqText.Format(RxqText.Measure([], now, [0], RxqLayout.Assign([1], 1, 1), new Dictionary<uint, string>())), StringComparison.Ordinal);

        // A PMD pinned by datapath.pmd-cpu-mask is named by its CPU, as Open vSwitch names a PMD by its core.
        Assert.StartsWith("pmd thread numa_id 0 core_id 3:\n", RxqText.Format([usage[0] with { Core = 3 }]), StringComparison.Ordinal);
    }

    private static ReadOnlySequence<byte> Sequence(string text) => new(Encoding.UTF8.GetBytes(text));
}
