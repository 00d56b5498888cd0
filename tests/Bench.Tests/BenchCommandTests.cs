using System.Text.Json;
using Host.Tests.Support;

namespace Bench.Tests;

public sealed class BenchCommandTests
{
    private static readonly string[] Required = ["mpps", "pmds", "connections", "protocol", "bypass", "emc_hit_rate", "bypass_hits"];

    [Fact]
    public void A_short_udp_run_prints_one_json_object_with_the_required_fields()
    {
        var (exit, output, error) = Invoke("bench", "--duration", "0.3", "--warmup", "0.1", "--connections", "10", "--json");

        Assert.True(exit == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        foreach (var name in Required)
        {
            Assert.True(root.TryGetProperty(name, out _), $"no {name} in {output}");
        }

        Assert.True(root.GetProperty("mpps").GetDouble() > 0);
        Assert.Equal(1, root.GetProperty("pmds").GetInt32());
        Assert.Equal(10, root.GetProperty("connections").GetInt32());
        Assert.Equal("udp", root.GetProperty("protocol").GetString());
        Assert.Equal("megaflow", root.GetProperty("bypass").GetString());
        Assert.InRange(root.GetProperty("emc_hit_rate").GetDouble(), 0, 1);
        Assert.True(root.GetProperty("bypass_hits").GetInt64() >= 0);
    }

    [Fact]
    public void Udp_connections_are_established_before_the_timed_window_so_it_sees_no_upcall_drop_or_new_connection()
    {
        var root = RunJson("--duration", "0.3", "--warmup", "0.2", "--connections", "10", "--bypass", "off");

        Assert.Equal("off", root.GetProperty("bypass").GetString());
        Assert.True(root.GetProperty("rx_packets").GetInt64() > 0);
        Assert.True(root.GetProperty("tx_packets").GetInt64() > 0);
        Assert.Equal(0, root.GetProperty("upcalls").GetInt64());
        Assert.Equal(0, root.GetProperty("drops").GetInt64());
        Assert.Equal(0, root.GetProperty("ct_invalid").GetInt64());
        Assert.Equal(0, root.GetProperty("ct_created").GetInt64());

        // Without the bypass every packet of the firewall recirculates once after ct.
        Assert.True(root.GetProperty("recirculations").GetInt64() > 0);
    }

    [Theory]
    [InlineData("off")]
    [InlineData("megaflow")]
    public void The_snat_cell_translates_every_connection_and_forwards_both_directions_without_drops(string bypass)
    {
        var root = RunJson("--nat", "snat", "--duration", "0.3", "--warmup", "0.2", "--connections", "10", "--bypass", bypass);

        // The replies address the translated side: were they not un-NATed back to the clients they
        // would be new and dropped, and the handshake would not have completed.
        Assert.Equal("snat", root.GetProperty("nat").GetString());
        Assert.True(root.GetProperty("rx_packets").GetInt64() > 0);
        Assert.True(root.GetProperty("tx_packets").GetInt64() > 0);
        Assert.Equal(0, root.GetProperty("drops").GetInt64());
        Assert.Equal(0, root.GetProperty("ct_invalid").GetInt64());
        Assert.Equal(0, root.GetProperty("ct_created").GetInt64());
        Assert.Equal(0, root.GetProperty("upcalls").GetInt64());
        if (bypass == "megaflow")
        {
            Assert.True(root.GetProperty("bypass_hits").GetInt64() > 0, "no translated packet took the bypass");
        }
        else
        {
            Assert.True(root.GetProperty("recirculations").GetInt64() > 0);
        }
    }

    [Fact]
    public void The_snat_cell_refuses_more_connections_than_client_ports()
    {
        var (exit, _, error) = Invoke("bench", "--nat", "snat", "--connections", "70000");

        Assert.Equal(2, exit);
        Assert.Contains("--nat", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Tcp_connections_after_a_real_handshake_are_never_marked_invalid()
    {
        var root = RunJson("--duration", "0.3", "--warmup", "0.1", "--connections", "2", "--protocol", "tcp");

        Assert.Equal("tcp", root.GetProperty("protocol").GetString());
        Assert.True(root.GetProperty("rx_packets").GetInt64() > 0);
        Assert.Equal(0, root.GetProperty("ct_invalid").GetInt64());
        Assert.Equal(0, root.GetProperty("ct_created").GetInt64());
        Assert.Equal(0, root.GetProperty("drops").GetInt64());
        Assert.Equal(0, root.GetProperty("upcalls").GetInt64());
    }

    [Fact]
    public void Two_pmds_on_the_shared_pool_share_the_traffic_without_drops()
    {
        var root = RunJson("--duration", "0.3", "--warmup", "0.1", "--connections", "50", "--pmds", "2", "--pmd-threads", "off");

        Assert.Equal(2, root.GetProperty("pmds").GetInt32());
        Assert.True(root.GetProperty("rx_packets").GetInt64() > 0);
        Assert.Equal(0, root.GetProperty("drops").GetInt64());
        Assert.Equal(0, root.GetProperty("ct_created").GetInt64());
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("tcp")]
    public void By_default_two_pmds_on_their_own_threads_are_fed_by_their_own_port_actors_and_track_every_packet_in_place(string protocol)
    {
        var root = RunJson("--duration", "0.3", "--warmup", "0.1", "--connections", "50", "--pmds", "2", "--protocol", protocol);

        Assert.Equal(2, root.GetProperty("pmds").GetInt32());
        Assert.True(root.GetProperty("rx_packets").GetInt64() > 0);
        Assert.True(root.GetProperty("tx_packets").GetInt64() > 0);
        Assert.Equal(0, root.GetProperty("drops").GetInt64());
        Assert.Equal(0, root.GetProperty("ct_invalid").GetInt64());
        Assert.Equal(0, root.GetProperty("ct_created").GetInt64());

        // Each PMD hosts the shards of its queues and receives only their connections.
        Assert.Equal(0, root.GetProperty("ct_messages_per_packet").GetDouble());
    }

    [Fact]
    public void Without_json_it_prints_the_table()
    {
        var (exit, output, error) = Invoke("bench", "--duration", "0.2", "--warmup", "0", "--connections", "3");

        Assert.True(exit == 0, error);
        foreach (var column in new[] { "mpps rx", "mpps tx", "pmds", "connections", "protocol", "bypass", "emc_hit_rate", "bypass_hits", "recirculations", "upcalls", "drops" })
        {
            Assert.Contains(column, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Flows_that_drop_the_handshake_fail_the_warm_up_with_a_clear_error()
    {
        using var scratch = new ScratchDirectory();
        string flows = scratch.Write("drop.flows", "priority=1 actions=drop\n");
        string config = scratch.Write("drop.conf", $"datapath.flows = \"{flows}\"\n");

        var (exit, output, error) = Invoke("bench", "--config", config, "--duration", "0.2", "--connections", "5", "--json");

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Contains("not established", error, StringComparison.Ordinal);
        Assert.Contains("0 of 5 frames from port 1 were forwarded to port 2", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--connections", "0")]
    [InlineData("--connections", "2147483647")]
    [InlineData("--duration", "0")]
    [InlineData("--duration", "NaN")]
    [InlineData("--duration", "Infinity")]
    [InlineData("--duration", "1e300")]
    [InlineData("--warmup", "-1")]
    [InlineData("--pmds", "0")]
    [InlineData("--pmds", "2000")]
    [InlineData("--reps", "0")]
    public void Out_of_range_values_get_one_line_naming_their_option(string option, string value)
    {
        var (exit, output, error) = Invoke("bench", option, value);

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.StartsWith($"bench: {option} must be ", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData("bench", "--duration", "abc")]
    [InlineData("bench", "--pmds", "two")]
    [InlineData("ct-bench", "--packets", "x")]
    public void A_value_that_does_not_parse_gets_one_line_in_our_words(string command, string option, string value)
    {
        var (exit, output, error) = Invoke(command, option, value);

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.StartsWith($"{command}: ", error, StringComparison.Ordinal);
        Assert.Contains(option, error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void The_matrix_refuses_a_fixed_bypass_and_bad_lists()
    {
        Assert.Equal(2, Invoke("bench", "--matrix", "--bypass", "on").Exit);
        Assert.Equal(2, Invoke("bench", "--matrix", "--connections-list", "1,x").Exit);
        Assert.Equal(2, Invoke("bench", "--matrix", "--pmds-list", "0").Exit);
        Assert.NotEqual(0, Invoke("bench", "--protocol", "icmp").Exit);
        Assert.NotEqual(0, Invoke("bench", "--pmd-threads", "maybe").Exit);
    }

    [Fact]
    public void The_matrix_alternates_off_and_on_and_writes_its_medians_as_json_and_a_png_chart()
    {
        using var scratch = new ScratchDirectory();
        var (exit, output, error) = Invoke(
            "bench", "--matrix", "--connections-list", "1,3", "--pmds-list", "1", "--reps", "2", "--duration", "0.2", "--warmup", "0", "--out", scratch.Path);

        Assert.True(exit == 0, error);
        Assert.Contains("on/off", output, StringComparison.Ordinal);

        var png = File.ReadAllBytes(Path.Combine(scratch.Path, "bench-matrix.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(scratch.Path, "bench-matrix.json")));
        var runs = json.RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(8, runs.Count);
        Assert.Equal(["off", "megaflow", "off", "megaflow", "off", "megaflow", "off", "megaflow"], runs.Select(r => r.GetProperty("bypass").GetString()));
        Assert.Equal([1, 1, 1, 1, 3, 3, 3, 3], runs.Select(r => r.GetProperty("connections").GetInt32()));

        var cells = json.RootElement.GetProperty("cells").EnumerateArray().ToList();
        Assert.Equal([1, 3], cells.Select(c => c.GetProperty("connections").GetInt32()));
        foreach (var cell in cells)
        {
            var off = cell.GetProperty("off_runs").EnumerateArray().Select(v => v.GetDouble()).Order().ToList();
            var on = cell.GetProperty("on_runs").EnumerateArray().Select(v => v.GetDouble()).Order().ToList();
            Assert.Equal((off[0] + off[1]) / 2, cell.GetProperty("off_mpps").GetDouble(), 9);
            Assert.Equal((on[0] + on[1]) / 2, cell.GetProperty("on_mpps").GetDouble(), 9);
            Assert.Equal(cell.GetProperty("on_mpps").GetDouble() / cell.GetProperty("off_mpps").GetDouble(), cell.GetProperty("ratio").GetDouble(), 9);
        }
    }

    private static JsonElement RunJson(params string[] args)
    {
        var (exit, output, error) = Invoke(["bench", "--json", .. args]);
        Assert.True(exit == 0, error);
        using var json = JsonDocument.Parse(output);
        return json.RootElement.Clone();
    }

    private static (int Exit, string Output, string Error) Invoke(params string[] args) => BenchCli.Invoke(args);
}
