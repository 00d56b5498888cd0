using System.Text.RegularExpressions;
using Actors.Tests.Support.Lab;

namespace Host.Tests.Control;

/// <summary>A running datapath whose 4 conntrack shards run on their entities (not hosted by the PMDs).</summary>
public sealed class EntityShardsDatapathFixture : IAsyncLifetime
{
    public RunningDatapath Datapath { get; private set; } = null!;

    public async Task InitializeAsync() => Datapath = await RunningDatapath.StartAsync(config: "datapath.conntrack.shards = 4\ndatapath.conntrack.host-on-pmds = off\n");

    public async Task DisposeAsync() => await Datapath.DisposeAsync();
}

/// <summary>
/// The dpctl conntrack commands (ct-set-maxconns and friends, flush-conntrack with filters) over
/// every shard of a live datapath, through our client with the shards hosted by the PMDs, and
/// through Debian's ovs-appctl with the shards on their entities: Open vSwitch's output, the
/// user's limits reported back (each shard enforces its share), counts added over the shards.
/// Every test puts back what it changed (the datapath is shared by the class).
/// </summary>
public sealed class ConntrackCommandTests(SharedDatapathFixture hosted, EntityShardsDatapathFixture entities)
    : IClassFixture<SharedDatapathFixture>, IClassFixture<EntityShardsDatapathFixture>
{
    [Fact]
    public async Task Maxconns_nconns_and_tcp_sequence_checking_through_our_client()
    {
        var datapath = hosted.Datapath;
        await RunningDatapath.Eventually(() => long.Parse(datapath.Ok("dpctl/ct-get-nconns").Trim(), System.Globalization.CultureInfo.InvariantCulture) > 0, "connections counted over the shards");
        string before = datapath.Ok("dpctl/ct-get-maxconns");
        Assert.Matches(@"^\d+\n$", before);

        Assert.Equal("setting maxconns successful", datapath.Ok("dpctl/ct-set-maxconns", "netdev@ovs-netdev", "123457").TrimEnd('\n'));
        Assert.Equal("123457\n", datapath.Ok("dpctl/ct-get-maxconns"));
        datapath.Ok("dpctl/ct-set-maxconns", before.Trim());
        Assert.Equal(before, datapath.Ok("dpctl/ct-get-maxconns"));

        Assert.Equal("disabling TCP sequence checking successful", datapath.Ok("dpctl/ct-disable-tcp-seq-chk").TrimEnd('\n'));
        Assert.Equal("TCP sequence checking: disabled\n", datapath.Ok("dpctl/ct-get-tcp-seq-chk"));
        Assert.Equal("enabling TCP sequence checking successful", datapath.Ok("dpctl/ct-enable-tcp-seq-chk").TrimEnd('\n'));
        Assert.Equal("TCP sequence checking: enabled\n", datapath.Ok("dpctl/ct-get-tcp-seq-chk"));

        var (exit, _, error) = datapath.Call("dpctl/ct-set-maxconns", "many");
        Assert.NotEqual(0, exit);
        Assert.Contains("maxconns missing or malformed", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Zone_limits_and_stats_through_our_client()
    {
        var datapath = hosted.Datapath;
        await RunningDatapath.Eventually(() => datapath.Ok("dpctl/ct-stats-show").Contains("  UDP: ", StringComparison.Ordinal) || datapath.Ok("dpctl/ct-stats-show").Contains("  TCP: ", StringComparison.Ordinal), "connections in ct-stats-show");
        Assert.Matches(@"^Connections Stats:\n    Total: \d+\n(  (TCP|UDP|ICMP|Other): \d+\n)+$", datapath.Ok("dpctl/ct-stats-show"));

        Assert.Equal(string.Empty, datapath.Ok("dpctl/ct-set-limits", "default=1000", "zone=7,limit=20", "zone=9,limit=5"));
        Assert.Equal("default limit=1000\nzone=7,limit=20,count=0\nzone=9,limit=5,count=0\n", datapath.Ok("dpctl/ct-get-limits"));
        Assert.Equal("default limit=1000\nzone=9,limit=5,count=0\nzone=3,limit=1000,count=0\n", datapath.Ok("dpctl/ct-get-limits", "zone=9,3"));
        Assert.Equal(string.Empty, datapath.Ok("dpctl/ct-del-limits", "zone=7,9"));
        Assert.Equal(string.Empty, datapath.Ok("dpctl/ct-set-limits", "default=0"));
        Assert.Equal("default limit=0\n", datapath.Ok("dpctl/ct-get-limits"));

        var (exit, _, error) = datapath.Call("dpctl/ct-set-limits", "zone=7");
        Assert.NotEqual(0, exit);
        Assert.Contains("failed to parse zone limit", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flush_conntrack_takes_Open_vSwitch_filters_over_every_shard()
    {
        var datapath = hosted.Datapath;
        await RunningDatapath.Eventually(() => datapath.Ok("dpctl/dump-conntrack").Length > 0, "connections");

        // A 5-tuple nobody uses, a mark nobody has: nothing goes, the answer is empty.
        Assert.Equal(string.Empty, datapath.Ok("dpctl/flush-conntrack", "ct_nw_src=192.0.2.250,ct_nw_dst=192.0.2.251,ct_nw_proto=17,ct_tp_src=1,ct_tp_dst=2"));
        Assert.Equal(string.Empty, datapath.Ok("dpctl/flush-conntrack", "zone=0", "mark=0x1234/0xffff"));

        var (exit, _, error) = datapath.Call("dpctl/flush-conntrack", "mark=zz");
        Assert.NotEqual(0, exit);
        Assert.Contains("dpctl/flush-conntrack", error, StringComparison.Ordinal);
    }

    [OvsAppctlFact]
    public async Task Debian_ovs_appctl_runs_the_ct_commands_over_shards_on_their_entities()
    {
        var datapath = entities.Datapath;
        await RunningDatapath.Eventually(() => Appctl("dpctl/ct-get-nconns").Output.Trim() is var n && n.Length > 0 && n != "0", "connections counted over 4 shards");
        Assert.Matches(@"^\d+\n$", Appctl("dpctl/ct-get-nconns").Output);

        string before = Appctl("dpctl/ct-get-maxconns").Output;
        Assert.Equal("setting maxconns successful", Appctl("dpctl/ct-set-maxconns", "99999").Output.TrimEnd('\n'));
        Assert.Equal("99999\n", Appctl("dpctl/ct-get-maxconns").Output);
        Appctl("dpctl/ct-set-maxconns", before.Trim());

        Assert.True(Appctl("dpctl/ct-set-limits", "zone=5,limit=8").Succeeded);
        Assert.Equal("default limit=0\nzone=5,limit=8,count=0\n", Appctl("dpctl/ct-get-limits").Output);
        Assert.True(Appctl("dpctl/ct-del-limits", "zone=5").Succeeded);
        Assert.Equal("default limit=0\n", Appctl("dpctl/ct-get-limits").Output);

        Assert.Matches(@"^Connections Stats:\n    Total: \d+\n", Appctl("dpctl/ct-stats-show", "verbose").Output);
        Assert.Equal("disabling TCP sequence checking successful", Appctl("dpctl/ct-disable-tcp-seq-chk").Output.TrimEnd('\n'));
        Assert.Equal("enabling TCP sequence checking successful", Appctl("dpctl/ct-enable-tcp-seq-chk").Output.TrimEnd('\n'));
        Assert.True(Appctl("dpctl/flush-conntrack", "ct_nw_src=192.0.2.250,ct_nw_proto=17").Succeeded);

        var bad = Appctl("dpctl/ct-del-limits", "zone=x");
        Assert.Equal(2, bad.ExitCode);
        Assert.Matches(new Regex("dpctl/ct-del-limits: invalid zone"), bad.Error);

        ShellResult Appctl(params string[] command) =>
            Shell.RunAsync(TimeSpan.FromSeconds(30), [OvsAppctl.Path!, "-t", datapath.Socket, .. command]).GetAwaiter().GetResult();
    }
}
