using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Actors.Tests.Support.Lab;

namespace Host.Tests.Control;

/// <summary>
/// Debian's own ovs-appctl, unchanged, against a running datapath's control socket: every command
/// answers in Open vSwitch's text, errors come back as unixctl errors (ovs-appctl exits 2), and
/// `exit` ends the run.
/// </summary>
public sealed partial class OvsAppctlTests(SharedDatapathFixture fixture) : IClassFixture<SharedDatapathFixture>
{
    private readonly RunningDatapath _datapath = fixture.Datapath;

    [OvsAppctlFact]
    public async Task List_commands_and_version_answer_as_unixctl_does()
    {
        string list = await OkAsync("list-commands");
        Assert.StartsWith("The available commands are:\n", list, StringComparison.Ordinal);
        foreach (string command in (string[])["dpctl/dump-flows", "dpctl/del-flows", "dpctl/dump-conntrack", "dpctl/flush-conntrack", "dpif-netdev/pmd-stats-show",
            "dpif-netdev/pmd-stats-clear", "dpif-netdev/pmd-rxq-show", "ofproto/trace", "list-commands", "version", "exit", "vlog/list", "vlog/set", "coverage/show"])
        {
            Assert.Matches(new Regex($"\n  {Regex.Escape(command)} {{{Math.Max(1, 24 - command.Length)}}}\\S*"), list);
        }

        Assert.Matches(@"^ovs-actors \(ovs-actors\) \d+\.\d+\.\d+\n$", await OkAsync("version"));
    }

    [OvsAppctlFact]
    public async Task Dpctl_dumps_megaflows_per_pmd_and_del_flows_answers_nothing()
    {
        var lines = (await OkAsync("dpctl/dump-flows")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("flow-dump from pmd on cpu core: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^ct_state\(-trk\),recirc_id\(0\),in_port\(\d\),.*, packets:\d+, bytes:\d+, used:.*, actions:ct,recirc\(0x1\)$"));

        Assert.Equal(string.Empty, await OkAsync("dpctl/del-flows", "netdev@ovs-netdev"));
    }

    [OvsAppctlFact]
    public async Task Dpctl_dumps_the_connections_by_zone_and_flushes_them()
    {
        string[] lines = [];
        await RunningDatapath.Eventually(() => (lines = Ok("dpctl/dump-conntrack").Split('\n', StringSplitOptions.RemoveEmptyEntries)).Length > 0, "connections");
        Assert.All(lines, l => Assert.Matches(@"^(tcp|udp|icmp),orig=\(src=[\d.]+,dst=[\d.]+,.*\),reply=\(src=[\d.]+,dst=[\d.]+,.*\)", l));
        Assert.Equal(string.Empty, await OkAsync("dpctl/dump-conntrack", "zone=7"));

        Assert.Equal(string.Empty, await OkAsync("dpctl/flush-conntrack", "zone=0"));
    }

    [OvsAppctlFact]
    public async Task Pmd_stats_show_and_clear_and_rxq_show_with_each_queues_measured_usage()
    {
        string stats = await OkAsync("dpif-netdev/pmd-stats-show");
        // Open vSwitch's lines in its order (lib/dpif-netdev.c, pmd_info_show_stats); ours follow them.
        Assert.Matches(
            @"^pmd thread numa_id 0 core_id 0:\n  packets received: \d+\n  packet recirculations: \d+\n  avg\. datapath passes per packet: \d+\.\d\d\n"
            + @"  phwol hits: \d+\n  mfex opt hits: \d+\n  simple match hits: \d+\n  emc hits: \d+\n  smc hits: \d+\n  megaflow hits: \d+\n"
            + @"  avg\. subtable lookups per megaflow hit: \d+\.\d\d\n  miss with success upcall: \d+\n  miss with failed upcall: \d+\n"
            + @"  avg\. packets per output batch: \d+\.\d\d\n",
            stats);
        // The transmitter's batches are counted: the generator's packets went out in some.
        Assert.True(double.Parse(System.Text.RegularExpressions.Regex.Match(stats, @"avg\. packets per output batch: (\d+\.\d\d)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, stats);
        Assert.Matches(@"pmd thread numa_id 0 core_id 0:\n  packets received: \d+", await OkAsync("dpif-netdev/pmd-stats-show", "-pmd", "0"));
        Assert.DoesNotContain("core_id 1", await OkAsync("dpif-netdev/pmd-stats-show", "-pmd", "0"), StringComparison.Ordinal);
        Assert.Equal(string.Empty, await OkAsync("dpif-netdev/pmd-stats-clear"));

        // Each queue's share of its PMD's time, measured: some queue is busy under the generator's traffic.
        string rxq = string.Empty;
        await RunningDatapath.Eventually(() => Usages(rxq = Ok("dpif-netdev/pmd-rxq-show")).Any(u => u > 0), "a queue with measured usage");
        Assert.Matches(@"^pmd thread numa_id 0 core_id 0:\n  isolated : false\n(  port: p[12] {16}queue-id:  \d \(enabled\)   pmd usage: +\d+ %\n)+  overhead: +\d+ %\n", rxq);
        Assert.All(Usages(rxq), u => Assert.InRange(u, 0, 100));
    }

    [OvsAppctlFact]
    public async Task Ofproto_trace_takes_the_bridge_name_and_walks_the_live_tables()
    {
        string trace = await OkAsync("ofproto/trace", "br0", "in_port=1,tcp,nw_src=10.0.0.1,nw_dst=10.1.0.1", "--ct-next", "trk,est");

        Assert.Contains("bridge(\"br0\")", trace, StringComparison.Ordinal);
        Assert.Contains("Datapath actions: 2", trace, StringComparison.Ordinal);
    }

    [OvsAppctlFact]
    public async Task Vlog_set_changes_what_the_control_module_logs_and_a_bad_spec_is_an_error()
    {
        Assert.Matches(@"^                 console    syslog    file\n                 -------    ------    ------\n(\S+ +\w+ +\w+ +\w+\n)+$", await OkAsync("vlog/list"));

        Assert.Equal(string.Empty, await OkAsync("vlog/set", "control:console:dbg"));
        Assert.Contains("control            DBG", await OkAsync("vlog/list"), StringComparison.Ordinal);
        await OkAsync("version");
        await RunningDatapath.Eventually(() => _datapath.Error.Contains("|control|DBG|", StringComparison.Ordinal) && _datapath.Error.Contains(": version []", StringComparison.Ordinal), "a debug line for the request");
        Assert.Equal(string.Empty, await OkAsync("vlog/set", "control:warn"));

        var bad = await AppctlAsync("vlog/set", "bogus:dbg");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("no destination, level, or module \"bogus\"", bad.Error, StringComparison.Ordinal);
        Assert.Contains("server returned an error", bad.Error, StringComparison.Ordinal);
    }

    [OvsAppctlFact]
    public async Task Coverage_show_lists_the_events_hit_with_rates_and_totals()
    {
        // Coverage is read from the actors every 5 s: wait for a reading that saw the PMDs' traffic.
        var patience = Stopwatch.StartNew();
        string coverage;
        Match received;
        do
        {
            coverage = await OkAsync("coverage/show");
            received = Regex.Match(coverage, @"\ndpif_netdev_packets_received +\d+\.\d/sec +\d+\.\d{3}/sec +\d+\.\d{4}/sec   total: (\d+)\n");
        }
        while (!received.Success && patience.Elapsed < TimeSpan.FromSeconds(30));

        Assert.Matches(@"^Event coverage, avg rate over last: 5 seconds, last minute, last hour,  hash=[0-9a-f]{8}:\n", coverage);
        Assert.True(received.Success, coverage);
        Assert.True(long.Parse(received.Groups[1].Value, CultureInfo.InvariantCulture) > 0);
        Assert.Matches(@"\n\d+ events never hit\n$", coverage);
    }

    [OvsAppctlFact]
    public async Task An_unknown_command_and_wrong_arguments_are_unixctl_errors()
    {
        var unknown = await AppctlAsync("no/such-command");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("\"no/such-command\" is not a valid command (use \"list-commands\" to see a list of valid commands)", unknown.Error, StringComparison.Ordinal);

        var extra = await AppctlAsync("version", "x");
        Assert.Equal(2, extra.ExitCode);
        Assert.Contains("\"version\" command takes at most 0 arguments", extra.Error, StringComparison.Ordinal);
    }

    [OvsAppctlFact]
    public async Task Exit_ends_the_run_with_its_summary()
    {
        await using var datapath = await RunningDatapath.StartAsync();

        var exit = await Shell.RunAsync(TimeSpan.FromSeconds(30), OvsAppctl.Path!, "-t", datapath.Socket, "exit");

        Assert.True(exit.Succeeded, exit.ToString());
        Assert.Equal(0, await datapath.WaitForExitAsync());
        Assert.Contains("throughput:", datapath.Output, StringComparison.Ordinal);
    }

    private static IEnumerable<int> Usages(string rxq) =>
        Usage().Matches(rxq).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

    private Task<ShellResult> AppctlAsync(params string[] command) =>
        Shell.RunAsync(TimeSpan.FromSeconds(30), [OvsAppctl.Path!, "-t", _datapath.Socket, .. command]);

    private async Task<string> OkAsync(params string[] command)
    {
        var result = await AppctlAsync(command);
        Assert.True(result.Succeeded, $"ovs-appctl {string.Join(' ', command)}: {result}");
        return result.Output;
    }

    private string Ok(params string[] command) => OkAsync(command).GetAwaiter().GetResult();

    [GeneratedRegex(@"pmd usage: +(\d+) %")]
    private static partial Regex Usage();
}
