namespace Actors.Tests.Support.Lab;

/// <summary>A host of a <see cref="NetworkLab"/>: a network namespace whose eth0 (with <see cref="Address"/>/24) is the peer of <see cref="Interface"/> in the test's namespace.</summary>
public sealed record LabHost(string Namespace, string Interface, string Address);

/// <summary>
/// Veth pairs and network namespaces made for one test, with unique names, all removed on dispose
/// (also when the test failed): the servers started in them are killed, the namespaces deleted
/// (which deletes their veth ends and so the pairs), stray links deleted. Only addresses inside
/// the namespaces it made are used.
/// </summary>
public sealed class NetworkLab : IAsyncDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly List<string> _links = [];
    private readonly List<BackgroundProcess> _processes = [];

    public string Suffix { get; } = LinuxLab.NewSuffix();

    /// <summary>
    /// A namespace "<paramref name="tag"/>-SUFFIX" with eth0 at <paramref name="address"/>/24, its
    /// peer "<paramref name="tag"/>SUFFIX" up in the test's namespace (the datapath's side).
    /// Checksum and segmentation offloads are off on eth0: frames through a packet socket must be
    /// complete, as on a wire (Open vSwitch's documentation asks the same of veth ports).
    /// </summary>
    public async Task<LabHost> AddHostAsync(string tag, string address, int? outerMtu = null)
    {
        string ns = $"{tag}-{Suffix}";
        string outer = tag + Suffix;
        string inner = "i" + outer;
        await Shell.CheckAsync("ip", "netns", "add", ns);
        _namespaces.Add(ns);
        await Shell.CheckAsync("ip", "link", "add", outer, "type", "veth", "peer", "name", inner, "netns", ns);
        _links.Add(outer);
        if (outerMtu is { } mtu)
        {
            await Shell.CheckAsync("ip", "link", "set", outer, "mtu", mtu.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        await Shell.CheckAsync("ip", "link", "set", outer, "up");
        await Shell.CheckAsync("ip", "-n", ns, "link", "set", inner, "name", "eth0");
        await Shell.CheckAsync("ip", "-n", ns, "addr", "add", address + "/24", "dev", "eth0");
        await Shell.CheckAsync("ip", "-n", ns, "link", "set", "eth0", "up");
        await Shell.CheckAsync("ip", "-n", ns, "link", "set", "lo", "up");
        await Shell.CheckAsync("ip", "netns", "exec", ns, "ethtool", "-K", "eth0", "tx", "off", "tso", "off", "gso", "off");
        return new LabHost(ns, outer, address);
    }

    /// <summary>Runs a command inside <paramref name="host"/> with a time limit.</summary>
    public static Task<ShellResult> ExecAsync(LabHost host, TimeSpan timeout, params string[] command) =>
        Shell.RunAsync(timeout, ["ip", "netns", "exec", host.Namespace, .. command]);

    /// <summary>Starts a command inside <paramref name="host"/> that runs until the lab is disposed.</summary>
    public BackgroundProcess Start(LabHost host, params string[] command)
    {
        var process = new BackgroundProcess(["ip", "netns", "exec", host.Namespace, .. command]);
        _processes.Add(process);
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            process.Dispose();
        }

        foreach (string ns in _namespaces)
        {
            await Shell.RunAsync(TimeSpan.FromSeconds(10), "ip", "netns", "del", ns);
        }

        foreach (string link in _links)
        {
            // Normally gone with its peer's namespace; this removes one whose namespace step failed.
            if (Directory.Exists("/sys/class/net/" + link))
            {
                await Shell.RunAsync(TimeSpan.FromSeconds(10), "ip", "link", "del", link);
            }
        }
    }
}
