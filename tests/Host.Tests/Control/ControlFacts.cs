namespace Host.Tests.Control;

/// <summary>
/// A fact that needs root (to make files of another user, or to run a process as one) and the
/// named programs: skipped with the reason elsewhere (CI runs the tests as root).
/// </summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute(params string[] programs)
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
        {
            Skip = "needs root on Linux to act as another user (CI runs the tests as root)";
        }
        else if (programs.FirstOrDefault(p => !File.Exists(p)) is { } missing)
        {
            Skip = $"needs {missing} (.ci/run installs it with apt-get)";
        }
    }
}

/// <summary>A fact that runs Debian's ovs-appctl (package openvswitch-common): skipped with the reason where it is missing.</summary>
public sealed class OvsAppctlFactAttribute : FactAttribute
{
    public OvsAppctlFactAttribute()
    {
        if (OvsAppctl.Path is null)
        {
            Skip = "needs ovs-appctl on the PATH (Debian's openvswitch-common; .ci/run installs it with apt-get)";
        }
    }
}

/// <summary>Where ovs-appctl is, if anywhere on the PATH.</summary>
public static class OvsAppctl
{
    public static string? Path { get; } = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
        .Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => System.IO.Path.Combine(dir, "ovs-appctl"))
        .FirstOrDefault(File.Exists);
}
