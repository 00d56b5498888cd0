using Host.Configuration;

namespace Host.Tests.Configuration;

public sealed class ConntrackSettingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ct-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_embedded_default_has_one_shard_per_pmd_and_so_per_core_and_Open_vSwitch_limits_and_timeouts()
    {
        var settings = DatapathSettings.From(DatapathConfig.LoadEmbedded(), DatapathConfig.EmbeddedName).Conntrack;

        Assert.Equal(Environment.ProcessorCount, settings.Shards);
        Assert.Equal(3_000_000, settings.ConnectionLimit); // OVS DEFAULT_N_CONN_LIMIT
        Assert.Empty(settings.ZoneLimits);
        Assert.Equal(TimeSpan.FromSeconds(1), settings.SweepInterval);

        // OVS lib/conntrack-tp.c defaults, written out here rather than read from the library.
        var t = settings.Timeouts;
        Assert.Equal(
            [30_000L, 30_000, 86_400_000, 900_000, 45_000, 30_000, 60_000, 60_000, 30_000, 60_000, 30_000],
            new[] { t.TcpSynSentMs, t.TcpSynRecvMs, t.TcpEstablishedMs, t.TcpFinWaitMs, t.TcpTimeWaitMs, t.TcpCloseMs, t.UdpFirstMs, t.UdpSingleMs, t.UdpMultipleMs, t.IcmpFirstMs, t.IcmpReplyMs });
    }

    [Fact]
    public void The_embedded_default_is_a_standalone_node_whose_cluster_settings_are_loopback_with_Hyperion_bound_to_wire_messages()
    {
        var config = DatapathConfig.LoadEmbedded();

        Assert.Equal("local", config.GetString("akka.actor.provider"));
        Assert.Equal("127.0.0.1", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(0, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Empty(config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal("hyperion", config.GetString("akka.actor.serialization-bindings.\"Actors.Wire.IWireMessage, Actors\""));
        Assert.StartsWith("Akka.Serialization.HyperionSerializer,", config.GetString("akka.actor.serializers.hyperion"), StringComparison.Ordinal);
        Assert.Equal("off", config.GetString("akka.cluster.sharding.passivate-idle-entity-after"));
    }

    [Fact]
    public void A_user_file_sets_shards_timeouts_and_zone_limits_and_limits_are_split_over_shards()
    {
        string path = Write("""
            datapath.conntrack {
              shards = 4
              connection-limit = 10
              zone-limits { 7 = 5 }
              sweep-budget = 50
              timeouts.udp-first = 2m
            }
            """);

        var settings = DatapathSettings.From(DatapathConfig.LoadFile(path), path).Conntrack;
        var options = settings.ShardOptions();

        Assert.Equal((4, 10, 50), (settings.Shards, settings.ConnectionLimit, settings.SweepBudget));
        Assert.Equal(120_000, settings.Timeouts.UdpFirstMs);
        Assert.Equal(30_000, settings.Timeouts.UdpMultipleMs);
        Assert.Equal(5, settings.ZoneLimits[7]);
        Assert.Equal(3, options.ConnectionLimit);
        Assert.Equal(2, options.ZoneLimits[7]);
        Assert.Equal(120_000, options.Timeouts.UdpFirstMs);
    }

    [Theory]
    [InlineData("datapath.conntrack.shards = -1", "datapath.conntrack.shards", "outside")]
    [InlineData("datapath.conntrack.shards = many", "datapath.conntrack.shards", "not a whole number")]
    [InlineData("datapath.conntrack.connection-limit = -5", "datapath.conntrack.connection-limit", "outside")]
    [InlineData("datapath.conntrack.sweep-budget = 0", "datapath.conntrack.sweep-budget", "outside")]
    [InlineData("datapath.conntrack.sweep-interval = soon", "datapath.conntrack.sweep-interval", "not a duration")]
    [InlineData("datapath.conntrack.timeouts.tcp-close = 0s", "datapath.conntrack.timeouts.tcp-close", "outside")]
    [InlineData("datapath.conntrack.timeouts.udp-first = forever", "datapath.conntrack.timeouts.udp-first", "not a duration")]
    [InlineData("datapath.conntrack.zone-limits { 70000 = 5 }", "datapath.conntrack.zone-limits.70000", "not a zone")]
    [InlineData("datapath.conntrack.zone-limits { 3 = lots }", "datapath.conntrack.zone-limits.3", "not a whole number")]
    [InlineData("datapath.conntrack.replication = 1ms", "datapath.conntrack.replication", "outside")]
    [InlineData("datapath.conntrack.replication = sometimes", "datapath.conntrack.replication", "not a duration")]
    public void A_bad_value_is_reported_with_its_file_and_key(string line, string key, string problem)
    {
        string path = Write(line + "\n");

        var error = Assert.Throws<ConfigurationException>(() => DatapathSettings.From(DatapathConfig.LoadFile(path), path));

        Assert.Equal(key, error.Key);
        Assert.StartsWith(path + ": " + key + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Timeout_policies_and_zone_policies_and_sequence_checking_come_from_the_file()
    {
        string path = Write("""
            datapath.conntrack {
              tcp-sequence-check = off
              timeout-policies {
                short-udp { udp_first = 5, udp_multiple = 10 }
                long-tcp { tcp_established = 604800 }
              }
              zone-timeout-policies { 7 = short-udp }
            }
            """);

        var settings = DatapathSettings.From(DatapathConfig.LoadFile(path), path).Conntrack;
        var options = settings.ShardOptions();

        Assert.False(options.TcpSequenceCheck);
        Assert.Equal((5_000L, 10_000L, 60_000L), (options.TimeoutPolicies["short-udp"].UdpFirstMs, options.TimeoutPolicies["short-udp"].UdpMultipleMs, options.TimeoutPolicies["short-udp"].UdpSingleMs));
        Assert.Equal(604_800_000, options.TimeoutPolicies["long-tcp"].TcpEstablishedMs);
        Assert.Equal("short-udp", options.ZoneTimeoutPolicies[7]);
        Assert.True(DatapathSettings.From(DatapathConfig.LoadEmbedded(), DatapathConfig.EmbeddedName).Conntrack.TcpSequenceCheck);
    }

    [Theory]
    [InlineData("", 100)]
    [InlineData("datapath.conntrack.replication = 2s", 2000)]
    [InlineData("datapath.conntrack.replication = off", null)]
    public void Replicas_are_fed_every_100_ms_by_default_at_another_interval_or_not_at_all(string line, int? intervalMs)
    {
        string path = Write(line + "\n");

        var settings = DatapathSettings.From(DatapathConfig.Load(path)).Conntrack;

        Assert.Equal(intervalMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null, settings.Replication);
    }

    [Theory]
    [InlineData("datapath.conntrack.timeout-policies { p { udp_frist = 5 } }", "datapath.conntrack.timeout-policies.p.udp_frist", "not a timeout policy attribute")]
    [InlineData("datapath.conntrack.timeout-policies { p { udp_first = 0 } }", "datapath.conntrack.timeout-policies.p.udp_first", "whole number of seconds")]
    // Accepted up to 2^32 - 1 s, past the 30 days a moved connection's expiry is checked against.
    [InlineData("datapath.conntrack.timeout-policies { p { udp_first = 2592001 } }", "datapath.conntrack.timeout-policies.p.udp_first", "2592001 is outside 1..2592000 seconds")]
    [InlineData("datapath.conntrack.timeout-policies { p { tcp_established = 4294967295 } }", "datapath.conntrack.timeout-policies.p.tcp_established", "outside 1..2592000 seconds")]
    [InlineData("datapath.conntrack.zone-timeout-policies { 3 = nonesuch }", "datapath.conntrack.zone-timeout-policies.3", "no timeout policy named")]
    [InlineData("datapath.conntrack.tcp-sequence-check = maybe", "datapath.conntrack.tcp-sequence-check", "not on or off")]
    public void A_bad_timeout_policy_is_reported_with_its_key(string line, string key, string problem)
    {
        string path = Write(line + "\n");

        var error = Assert.Throws<ConfigurationException>(() => DatapathSettings.From(DatapathConfig.LoadFile(path), path));

        Assert.Equal(key, error.Key);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("datapath.conntrack.shard = 4", "datapath.conntrack.shard")]
    [InlineData("datapath.conntrack.timeouts.tcp-synsent = 1s", "datapath.conntrack.timeouts.tcp-synsent")]
    public void A_misspelt_conntrack_key_is_an_error(string line, string key)
    {
        string path = Write(line + "\n");

        var error = Assert.Throws<ConfigurationException>(() => DatapathConfig.LoadFile(path));

        Assert.Equal(key, error.Key);
        Assert.Contains("unknown key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Seed_nodes_without_the_cluster_provider_are_an_error_naming_the_key()
    {
        string path = Write("""
            akka.cluster.seed-nodes = ["akka.tcp://datapath@127.0.0.1:4053"]
            """);

        var error = Assert.Throws<ConfigurationException>(() => DatapathSettings.From(DatapathConfig.LoadFile(path), path));

        Assert.Equal("akka.cluster.seed-nodes", error.Key);
        Assert.Contains("akka.actor.provider = cluster", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_two_node_example_parses_and_names_two_loopback_seeds_and_a_role()
    {
        string example = Path.Combine(RepositoryRoot(), "hocon", "two-node.conf");

        var config = DatapathConfig.LoadFile(example);
        var settings = DatapathSettings.From(config, example);

        Assert.Equal(16, settings.Conntrack.Shards);
        Assert.Equal(
            ["akka.tcp://datapath@127.0.0.1:4053", "akka.tcp://datapath@127.0.0.1:4054"],
            config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(["datapath"], config.GetStringList("akka.cluster.roles"));
        Assert.Equal("datapath", config.GetString("akka.cluster.sharding.role"));
        Assert.Equal("cluster", config.GetString("akka.actor.provider"));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Actors.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("No Actors.sln above " + AppContext.BaseDirectory);
    }

    private string Write(string text)
    {
        string path = Path.Combine(_dir, $"{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, text);
        return path;
    }
}
