namespace Host.Configuration;

/// <summary>
/// The validated `datapath.openflow` section: where the bridge listens for OpenFlow clients
/// (ovs-ofctl, controllers) and which controllers it connects to.
/// </summary>
/// <param name="Management">The br0.mgmt socket's path, null for the default (beside the control socket), or <see cref="ControlSettings.Off"/>.</param>
/// <param name="ListenPort">ptcp:PORT:127.0.0.1; 0: no TCP listener.</param>
/// <param name="Controllers">Controllers to connect to, each "tcp:HOST:PORT".</param>
public sealed record OpenFlowSettings(
    string? Management,
    int ListenPort,
    IReadOnlyList<string> Controllers,
    TimeSpan ProbeInterval,
    TimeSpan MaxBackoff,
    int MaxConnections)
{
    private const string Section = "datapath.openflow";

    /// <summary>The bridge's name, as in br0.mgmt.</summary>
    public const string BridgeName = "br0";

    /// <summary>br0.mgmt in the control socket's directory; none when the control socket is off (unless a path is configured).</summary>
    public string? ManagementPath(ControlSettings control)
    {
        ArgumentNullException.ThrowIfNull(control);
        if (Management == ControlSettings.Off)
        {
            return null;
        }

        if (Management is { Length: > 0 } path)
        {
            return path;
        }

        return control.Enabled
            ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(control.EffectiveSocketPath)) ?? ".", BridgeName + ".mgmt")
            : null;
    }

    /// <summary>Parses "tcp:HOST:PORT".</summary>
    /// <exception cref="FormatException">Not of that form.</exception>
    public static (string Host, int Port) ParseTarget(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        string[] parts = target.Split(':');
        if (parts.Length != 3 || parts[0] != "tcp" || parts[1].Length == 0
            || !int.TryParse(parts[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            throw new FormatException($"'{SettingReader.Shown(target)}' is not a controller target (tcp:HOST:PORT, e.g. tcp:127.0.0.1:6653)");
        }

        return (parts[1], port);
    }

    internal static OpenFlowSettings From(SettingReader reader)
    {
        var controllers = reader.List(Section + ".controllers");
        foreach (string target in controllers)
        {
            try
            {
                ParseTarget(target);
            }
            catch (FormatException e)
            {
                throw reader.Error(Section + ".controllers", e.Message);
            }
        }

        return new OpenFlowSettings(
            reader.Text(Section + ".mgmt") is { Length: > 0 } path ? path : null,
            reader.Int(Section + ".listen-port", 0, 65535),
            controllers,
            reader.Duration(Section + ".probe-interval", TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)),
            reader.Duration(Section + ".max-backoff", TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)),
            reader.Int(Section + ".max-connections", 1, 1024));
    }
}
