namespace Host.Configuration;

/// <summary>
/// The validated `datapath.control` section: where `run` listens for ovs-appctl-style commands,
/// and the limits that keep a misbehaving client from hurting the datapath.
/// </summary>
/// <param name="SocketPath">The socket's path, null for <see cref="DefaultSocketPath"/>, or <see cref="Off"/>.</param>
/// <param name="IdleTimeout">How long a client may stay silent before its request, or leave its answer unread, before it is disconnected.</param>
public sealed record ControlSettings(string? SocketPath, int MaxConnections, int MaxRequestBytes, TimeSpan RequestTimeout, TimeSpan IdleTimeout)
{
    private const string Section = "datapath.control";

    /// <summary>The value of `socket` (or `run --control`) that turns the control channel off.</summary>
    public const string Off = "off";

    /// <summary>False when the socket is configured as <see cref="Off"/>.</summary>
    public bool Enabled => SocketPath != Off;

    /// <summary>The socket's path: the configured one or the default.</summary>
    public string EffectiveSocketPath => SocketPath ?? DefaultSocketPath();

    /// <summary>
    /// $XDG_RUNTIME_DIR/ovs-actors/ovs-actors.ctl when the session has a runtime directory (it is
    /// the user's own, mode 0700), else /tmp/ovs-actors-USER/ovs-actors.ctl. Clients default to it too.
    /// </summary>
    public static string DefaultSocketPath()
    {
        string? runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        string directory = !string.IsNullOrEmpty(runtime) && Path.IsPathRooted(runtime)
            ? Path.Combine(runtime, "ovs-actors")
            : Path.Combine(Path.GetTempPath(), "ovs-actors-" + Environment.UserName);
        return Path.Combine(directory, "ovs-actors.ctl");
    }

    internal static ControlSettings From(SettingReader reader) => new(
        reader.Text(Section + ".socket") is { Length: > 0 } path ? path : null,
        reader.Int(Section + ".max-connections", 1, 1024),
        reader.Int(Section + ".max-request-bytes", 1024, 256 << 20),
        reader.Duration(Section + ".request-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10)),
        reader.Duration(Section + ".idle-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)));
}
