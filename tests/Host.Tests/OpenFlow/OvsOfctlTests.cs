using System.Globalization;
using System.Text.RegularExpressions;
using Actors.Tests.Support.Lab;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Syntax;
using Datapath.Tests.Support;
using Host.Tests.Control;
using static Host.Tests.OpenFlow.OvsTools;

namespace Host.Tests.OpenFlow;

/// <summary>
/// Debian's ovs-ofctl, unchanged, against a running datapath over br0.mgmt, in OpenFlow 1.0 and
/// 1.3: the flows it adds are the ones the control channel sees and the traffic hits, and what it
/// prints is what it prints against Open vSwitch. Skipped with the reason where ovs-ofctl is missing.
/// </summary>
public sealed partial class OvsOfctlTests(OpenFlowDatapath fixture) : IClassFixture<OpenFlowDatapath>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [OvsToolTheory("ovs-ofctl")]
    [InlineData("OpenFlow10")]
    [InlineData("OpenFlow13")]
    [InlineData("OpenFlow15")]
    public async Task Add_flows_installs_the_firewall_and_dump_flows_shows_its_counters_moving_under_traffic(string version)
    {
        await OfctlOkAsync("-O", version, "del-flows", fixture.Target);
        await OfctlOkAsync("-O", version, "add-flows", fixture.Target, TestData.Capture("firewall.flows"));

        var firewall = FlowParser.ParseFile(File.ReadAllText(TestData.Capture("firewall.flows")), "firewall.flows");
        var first = Dumped(await OfctlOkAsync("-O", version, "dump-flows", fixture.Target));
        Assert.Equal(firewall.OrderBy(e => e.ToString()), first.Keys.OrderBy(e => e.ToString()));

        // The generator's established connections go on through the new table: +est from port 1 counts up.
        var established = firewall.Single(e => e.ToString().Contains("+est+trk,ip,in_port=1", StringComparison.Ordinal));
        long before = first[established];
        await RunningDatapath.Eventually(() => Dumped(OfctlOkAsync("-O", version, "dump-flows", fixture.Target).GetAwaiter().GetResult())[established] > before, "n_packets of the +est flow to grow");

        // The control channel shows the same table.
        Assert.Equal(firewall.Count, fixture.Datapath.Ok("dump-flows", "--no-stats").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [OvsToolTheory("ovs-ofctl")]
    [InlineData("OpenFlow10")]
    [InlineData("OpenFlow13")]
    public async Task Del_replace_and_diff_flows_change_the_table_the_control_channel_sees(string version)
    {
        await fixture.RestoreFirewallAsync();
        const string extra = "table=3,priority=9,udp,tp_dst=53 actions=output:2";
        await OfctlOkAsync("-O", version, "add-flow", fixture.Target, extra);
        Assert.Contains("priority=9,udp,tp_dst=53 actions=output:2", fixture.Datapath.Ok("dump-flows"), StringComparison.Ordinal);

        var differs = await OfctlAsync("-O", version, "diff-flows", fixture.Target, fixture.FirewallFile);
        Assert.Contains("-table=3 priority=9,udp,tp_dst=53 actions=output:2", differs.Output, StringComparison.Ordinal);

        await OfctlOkAsync("-O", version, "--strict", "del-flows", fixture.Target, "table=3,priority=9,udp,tp_dst=53");
        Assert.DoesNotContain("tp_dst=53", fixture.Datapath.Ok("dump-flows"), StringComparison.Ordinal);
        var same = await OfctlAsync("-O", version, "diff-flows", fixture.Target, fixture.FirewallFile);
        Assert.True(same.Succeeded && same.Output.Trim().Length == 0, "diff-flows after del-flows: " + same);

        await OfctlOkAsync("-O", version, "del-flows", fixture.Target, "table=1");
        Assert.DoesNotContain("table=1,", fixture.Datapath.Ok("dump-flows"), StringComparison.Ordinal);

        // replace-flows of a file with table=N needs OpenFlow 1.1+ (ovs-ofctl 3.1 refuses it in 1.0 against Open vSwitch too).
        await OfctlOkAsync("-O", "OpenFlow13", "replace-flows", fixture.Target, fixture.FirewallFile);
        Assert.Equal(7, fixture.Datapath.Ok("dump-flows", "--no-stats").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [OvsToolFact("ovs-ofctl")]
    public async Task A_whole_ovs_ofctl_session_prints_what_it_prints_against_open_vswitch()
    {
        // tests/data/openflow/ofctl-session.expected was printed by the same script against Open vSwitch 3.1.0.
        string script = Path.Combine(TestData.Root, "openflow", "ofctl-session.sh");
        var run = await Shell.RunAsync(TimeSpan.FromMinutes(2), "bash", script, fixture.Target);
        var expected = File.ReadAllLines(Path.Combine(TestData.Root, "openflow", "ofctl-session.expected"));
        Assert.Equal(Normalised(expected), Normalised(run.Output.Split('\n')));
        await fixture.RestoreFirewallAsync();
    }

    [OvsToolTheory("ovs-ofctl")]
    [InlineData("OpenFlow10")]
    [InlineData("OpenFlow13")]
    public async Task Show_dump_ports_and_dump_ports_desc_list_the_bridges_ports_with_their_counters(string version)
    {
        await fixture.RestoreFirewallAsync();
        string show = await OfctlOkAsync("-O", version, "show", fixture.Target);
        Assert.Contains("n_tables:255", show, StringComparison.Ordinal);
        Assert.Contains(" 1(p1): addr:", show, StringComparison.Ordinal);
        Assert.Contains(" 2(p2): addr:", show, StringComparison.Ordinal);

        string desc = await OfctlOkAsync("-O", version, "dump-ports-desc", fixture.Target);
        Assert.Contains(" 1(p1): addr:02:00:00:00:00:01", desc, StringComparison.Ordinal);

        string ports = await OfctlOkAsync("-O", version, "dump-ports", fixture.Target);
        Assert.Contains("2 ports", ports, StringComparison.Ordinal);
        long[] Received(string text) => RxPackets().Matches(text).Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        var before = Received(ports);
        Assert.Equal(2, before.Length);

        // The generator's traffic moves both ports' counters (port 2 receives the servers' replies).
        await RunningDatapath.Eventually(
            () => Received(OfctlOkAsync("-O", version, "dump-ports", fixture.Target).GetAwaiter().GetResult()) is var now && now[0] > before[0] && now[1] > before[1],
            "both ports' rx counters to grow: " + ports);

        // Table and aggregate statistics count the firewall's flows: 3 in table 0, 4 in table 1.
        string tables = await OfctlOkAsync("-O", version, "dump-tables", fixture.Target);
        Assert.Matches(@"table 0:\s+active=3,", tables);
        Assert.Matches(@"table 1:\s+active=4,", tables);
        Assert.Contains("flow_count=7", await OfctlOkAsync("-O", version, "dump-aggregate", fixture.Target), StringComparison.Ordinal);

        string one = await OfctlOkAsync("-O", version, "dump-ports", fixture.Target, "2");
        Assert.Contains("1 ports", one, StringComparison.Ordinal);
        Assert.Contains("port  2:", one, StringComparison.Ordinal);
    }

    [OvsToolTheory("ovs-ofctl")]
    [InlineData("OpenFlow10")]
    [InlineData("OpenFlow13")]
    [InlineData("OpenFlow15")]
    public async Task Monitor_gets_packet_ins_from_packet_out_and_from_the_tables_and_flow_removed_messages(string version)
    {
        await fixture.RestoreFirewallAsync();
        string control = Path.Combine(fixture.Datapath.Scratch.Path, $"monitor-{version}.ctl");
        using var monitor = new BackgroundProcess("ovs-ofctl", "-O", version, $"--unixctl={control}", "monitor", fixture.Target, "65534");
        await RunningDatapath.Eventually(() => File.Exists(control), "ovs-ofctl monitor to start");

        // An ARP request from 10.0.0.1 for 10.0.0.2, 42 bytes.
        const string arp = "ffffffffffff000000000001080600010800060400010000000000010a0000010000000000000a000002";
        await OfctlOkAsync("-O", version, "packet-out", fixture.Target, $"in_port=1 packet={arp} actions=controller");
        Assert.True(await monitor.WaitForOutputAsync("total_len=42 in_port=1 (via action)", Patience), "packet_in of packet-out: " + monitor.Output);
        Assert.True(await monitor.WaitForOutputAsync("arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1", Patience), monitor.Output);

        // packet-out into the tables (actions=table): a flow sends it to the controller with its table and cookie.
        await OfctlOkAsync("-O", version, "add-flow", fixture.Target, "table=0,priority=300,cookie=0x77,arp,arp_spa=10.0.0.1 actions=controller(reason=action,max_len=20)");
        await OfctlOkAsync("-O", version, "packet-out", fixture.Target, $"in_port=2 packet={arp} actions=table");
        Assert.True(await monitor.WaitForOutputAsync("total_len=42 in_port=2 (via action) data_len=20", Patience), "packet_in from the tables: " + monitor.Output);

        await OfctlOkAsync("-O", version, "add-flow", fixture.Target, "table=7,priority=4,send_flow_rem,cookie=0x98,arp actions=drop");
        await OfctlOkAsync("-O", version, "--strict", "del-flows", fixture.Target, "table=7,priority=4,arp");
        Assert.True(await monitor.WaitForOutputAsync("priority=4,arp reason=delete", Patience), "flow_removed: " + monitor.Output);
        Assert.Contains("cookie:0x98", monitor.Output, StringComparison.Ordinal);

        // A hard timeout takes a flow out by itself, and the monitor hears why.
        await OfctlOkAsync("-O", version, "add-flow", fixture.Target, "table=7,priority=5,hard_timeout=1,send_flow_rem,cookie=0x97,udp actions=drop");
        Assert.True(await monitor.WaitForOutputAsync("priority=5,udp reason=hard", Patience), "flow_removed by hard_timeout: " + monitor.Output);
        await fixture.RestoreFirewallAsync();
    }

    [OvsToolTheory("ovs-ofctl")]
    [InlineData("OpenFlow10")]
    [InlineData("OpenFlow13")]
    public async Task A_nat_table_added_by_ovs_ofctl_is_the_table_ovs_ofctl_reads_back_and_the_control_channel_shows(string version)
    {
        // ovs-ofctl encodes ct(nat(...)) as Open vSwitch does; diff-flows decodes what the switch sends back and compares (1.0 cannot name tables in diff-flows).
        string nat = TestData.Capture(Path.Combine("nat", "nat.flows"));
        await OfctlOkAsync("-O", version, "del-flows", fixture.Target);
        await OfctlOkAsync("-O", version, "add-flows", fixture.Target, nat);
        var same = await OfctlAsync("-O", "OpenFlow13", "diff-flows", fixture.Target, nat);
        Assert.True(same.Succeeded && same.Output.Trim().Length == 0, "diff-flows of nat.flows: " + same);

        string table = fixture.Datapath.Ok("dump-flows");
        Assert.Contains("actions=ct(commit,zone=1,nat(src=192.0.2.101:20000-20001)),output:2", table, StringComparison.Ordinal);
        Assert.Contains("actions=ct(commit,zone=1,nat(src=2001:db8::100)),output:2", table, StringComparison.Ordinal);
        await fixture.RestoreFirewallAsync();
    }

    [OvsToolTheory("ovs-ofctl")]
    [InlineData("OpenFlow10")]
    [InlineData("OpenFlow13")]
    public async Task A_match_on_the_connections_original_tuple_goes_both_ways_unchanged(string version)
    {
        // As Open vSwitch 3.1's ovs-ofctl prints these flows (parse-flow), so a dump that dropped a field would differ.
        string[] flows =
        [
            "priority=9,ct_state=+est+trk,ct_nw_src=10.0.0.1,ct_nw_dst=10.1.0.0/16,ct_nw_proto=6,ct_tp_dst=80,ip actions=output:2",
            "priority=8,ct_state=+est+trk,ct_ipv6_src=fd00::1,ct_ipv6_dst=fd00::/64,ipv6 actions=output:2",
        ];
        await fixture.RestoreFirewallAsync();
        foreach (string flow in flows)
        {
            await OfctlOkAsync("-O", version, "add-flow", fixture.Target, "table=5," + flow);
        }

        string dumped = await OfctlOkAsync("-O", version, "--no-stats", "dump-flows", fixture.Target, "table=5");
        string table = fixture.Datapath.Ok("dump-flows");
        foreach (string flow in flows)
        {
            Assert.Contains("table=5, " + flow, dumped, StringComparison.Ordinal);
            Assert.Contains(flow, table, StringComparison.Ordinal);
        }

        await fixture.RestoreFirewallAsync();
    }

    [OvsToolFact("ovs-ofctl")]
    public async Task The_ptcp_listener_on_the_loopback_serves_ovs_ofctl_as_br0_mgmt_does()
    {
        var (datapath, port) = await ListeningOnFreePortAsync();
        await using var _ = datapath;
        string target = $"tcp:127.0.0.1:{port}";
        var firewall = FlowParser.ParseFile(File.ReadAllText(TestData.Capture("firewall.flows")), "firewall.flows");
        foreach (string version in (string[])["OpenFlow10", "OpenFlow13"])
        {
            Assert.Equal(firewall.OrderBy(e => e.ToString()), Dumped(await OfctlOkAsync("-O", version, "dump-flows", target)).Keys.OrderBy(e => e.ToString()));
        }

        await OfctlOkAsync("-O", "OpenFlow13", "add-flow", target, "table=3,priority=9,udp,tp_dst=53 actions=output:2");
        Assert.Contains("priority=9,udp,tp_dst=53 actions=output:2", datapath.Ok("dump-flows"), StringComparison.Ordinal);
    }

    [OvsToolTheory("ovs-ofctl")]
    [InlineData("OpenFlow13", "priority=1,check_overlap,ip actions=drop", "OFPFMFC_OVERLAP")]
    [InlineData("OpenFlow10", "priority=1,check_overlap,ip actions=drop", "OFPFMFC_OVERLAP")]
    [InlineData("OpenFlow13", "priority=5,tun_id=5 actions=drop", "OFPBMC_BAD_FIELD")]
    [InlineData("OpenFlow10", "priority=5,tun_id=5 actions=drop", "OFPBMC_BAD_FIELD")]
    [InlineData("OpenFlow10", "priority=5,pkt_mark=1 actions=drop", "OFPBMC_BAD_FIELD")]
    public async Task A_refused_flow_is_an_openflow_error_ovs_ofctl_names_and_the_table_is_unchanged(string version, string flow, string error)
    {
        // In OpenFlow 1.0 Open vSwitch's extension errors come inside a Nicira vendor error; a bare one is a decode error to ovs-ofctl.
        await fixture.RestoreFirewallAsync();
        var refused = await OfctlAsync("-O", version, "add-flow", fixture.Target, flow);
        Assert.False(refused.Succeeded);
        Assert.Contains(error, refused.Output + refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("decode error", refused.Output + refused.Error, StringComparison.Ordinal);
        Assert.Equal(7, fixture.Datapath.Ok("dump-flows", "--no-stats").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    /// <summary>
    /// A datapath listening on a port that was free a moment before: another test may bind it in
    /// between (the run then fails at start, naming the port), so that case tries another port.
    /// </summary>
    private static async Task<(RunningDatapath Datapath, int Port)> ListeningOnFreePortAsync()
    {
        for (int attempt = 1; ; attempt++)
        {
            int port = Metrics.TcpListeners.FreePort();
            var datapath = new RunningDatapath(config: $"datapath.openflow.listen-port = {port}\n");
            try
            {
                await datapath.StartAndWaitAsync();
                return (datapath, port);
            }
            catch (Exception) when (attempt < 5 && datapath.Error.Contains($"cannot listen on ptcp:{port}:", StringComparison.Ordinal))
            {
                await datapath.DisposeAsync();
            }
        }
    }

    /// <summary>A dump's flows (statistics left out) with their n_packets.</summary>
    private static Dictionary<FlowEntry, long> Dumped(string dump) =>
        dump.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith(' ')).ToDictionary(
            l => FlowParser.ParseLine(l.Trim()),
            l => long.Parse(NPackets().Match(l).Groups[1].Value, CultureInfo.InvariantCulture));

    /// <summary>Without ovs-ofctl's log lines (they carry times), sorted: Open vSwitch orders equal-priority flows its own way.</summary>
    private static string[] Normalised(IEnumerable<string> lines) =>
        lines.Where(l => l.Length > 0 && !LogLine().IsMatch(l)).Order(StringComparer.Ordinal).ToArray();

    [GeneratedRegex(@"n_packets=(\d+)")]
    private static partial Regex NPackets();

    [GeneratedRegex(@"rx pkts=(\d+)")]
    private static partial Regex RxPackets();

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT")]
    private static partial Regex LogLine();
}
