using Host.Configuration;

namespace Host.Tests.Configuration;

public sealed class MetricsSettingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dp-metrics-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_metrics_endpoint_is_off_by_default()
    {
        var settings = DatapathSettings.From(DatapathConfig.LoadEmbedded(), DatapathConfig.EmbeddedName);

        Assert.False(settings.Metrics.Enabled);
        Assert.Equal(9464, settings.Metrics.Port); // README: the port of OpenTelemetry's Prometheus exporter
    }

    [Fact]
    public void A_user_file_turns_the_endpoint_on_at_its_port()
    {
        string path = Write("datapath.metrics { enabled = on, port = 19000, timeout = 2s }\n");

        var settings = DatapathSettings.From(DatapathConfig.LoadFile(path), path);

        Assert.Equal(new MetricsSettings(true, 19000, TimeSpan.FromSeconds(2)), settings.Metrics);
    }

    [Theory]
    [InlineData("datapath.metrics.port = 0", "datapath.metrics.port", "outside 1..65535")]
    [InlineData("datapath.metrics.port = 65536", "datapath.metrics.port", "outside 1..65535")]
    [InlineData("datapath.metrics.enabled = sometimes", "datapath.metrics.enabled", "not on or off")]
    [InlineData("datapath.metrics.timeout = soon", "datapath.metrics.timeout", "not a duration")]
    public void A_bad_metrics_value_is_reported_with_its_key(string line, string key, string problem)
    {
        string path = Write(line + "\n");

        var error = Assert.Throws<ConfigurationException>(() => DatapathSettings.From(DatapathConfig.LoadFile(path), path));

        Assert.Equal(key, error.Key);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelt_metrics_key_is_rejected()
    {
        string path = Write("datapath.metrics { enabled = on, prot = 19000 }\n");

        var error = Assert.Throws<ConfigurationException>(() => DatapathConfig.LoadFile(path));

        Assert.Equal("datapath.metrics.prot", error.Key);
        Assert.Contains("unknown key", error.Message, StringComparison.Ordinal);
    }

    private string Write(string text)
    {
        string path = Path.Combine(_dir, $"{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, text);
        return path;
    }
}
