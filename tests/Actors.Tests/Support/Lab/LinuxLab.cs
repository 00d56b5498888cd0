namespace Actors.Tests.Support.Lab;

/// <summary>
/// Whether this machine can build a network lab (veth pairs, network namespaces, the tools run in
/// them): Linux, root (CI runs as root), the tools on the PATH, and a namespace that can really be
/// made. Probed once per test process.
/// </summary>
public static class LinuxLab
{
    private static readonly Lazy<string?> Missing = new(Probe);

    /// <summary>Why a lab cannot be built here, or null when it can; <paramref name="tools"/> are the commands the test runs.</summary>
    public static string? WhyUnavailable(IEnumerable<string> tools)
    {
        if (Missing.Value is { } reason)
        {
            return reason;
        }

        var absent = tools.Where(t => !OnPath(t)).ToArray();
        return absent.Length == 0
            ? null
            : $"needs {string.Join(", ", absent)} on the PATH (.ci/run installs them with apt-get)";
    }

    /// <summary>A name part unique to one test run, so parallel or aborted runs never collide (interface names stay under 16 characters).</summary>
    public static string NewSuffix() => Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..6];

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "needs Linux (network namespaces and AF_PACKET sockets)";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return "needs root to create network namespaces and veth pairs (CI runs the tests as root)";
        }

        if (!OnPath("ip"))
        {
            return "needs ip (iproute2) on the PATH (.ci/run installs it with apt-get)";
        }

        string probe = "labprobe-" + NewSuffix();
        var made = Shell.RunAsync(TimeSpan.FromSeconds(10), "ip", "netns", "add", probe).GetAwaiter().GetResult();
        if (!made.Succeeded)
        {
            return "cannot create a network namespace here: " + made;
        }

        Shell.RunAsync(TimeSpan.FromSeconds(10), "ip", "netns", "del", probe).GetAwaiter().GetResult();
        return null;
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, tool)));
}

/// <summary>
/// A fact that needs a network lab (root, iproute2 and the named tools): skipped with the reason
/// where the machine cannot build one, never silently passed.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxLabFactAttribute : FactAttribute
{
    public LinuxLabFactAttribute(params string[] tools)
    {
        if (LinuxLab.WhyUnavailable(tools) is { } reason)
        {
            Skip = reason;
        }
    }
}
