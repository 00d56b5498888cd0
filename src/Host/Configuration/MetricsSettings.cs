namespace Host.Configuration;

/// <summary>
/// The validated `datapath.metrics` section: whether `run` serves its counters in the Prometheus
/// text format on 127.0.0.1, on which port, and how long a scrape waits for the actors.
/// </summary>
public sealed record MetricsSettings(bool Enabled, int Port, TimeSpan Timeout)
{
    private const string Section = "datapath.metrics";

    internal static MetricsSettings From(SettingReader reader) => new(
        reader.Bool(Section + ".enabled"),
        reader.Int(Section + ".port", 1, 65535),
        reader.Duration(Section + ".timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1)));
}
