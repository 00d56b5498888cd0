using Actors.Tests.Support.Lab;

namespace Host.Tests.OpenFlow;

/// <summary>
/// Whether Debian's Open vSwitch tools are here (ovs-ofctl from openvswitch-common,
/// ovs-testcontroller from openvswitch-testcontroller; .ci/run installs both).
/// </summary>
public static class OvsTools
{
    public static string? WhyMissing(params string[] tools)
    {
        var absent = tools.Where(t => !OnPath(t)).ToArray();
        return absent.Length == 0
            ? null
            : $"needs Debian's {string.Join(", ", absent)} (packages openvswitch-common, openvswitch-testcontroller; .ci/run installs them)";
    }

    /// <summary>Runs ovs-ofctl with <paramref name="args"/> (30 s at most: a guard against a hang, long enough for a loaded machine).</summary>
    public static Task<ShellResult> OfctlAsync(params string[] args) => Shell.RunAsync(TimeSpan.FromSeconds(30), ["ovs-ofctl", .. args]);

    /// <summary>ovs-ofctl that must succeed; its output.</summary>
    public static async Task<string> OfctlOkAsync(params string[] args)
    {
        var result = await OfctlAsync(args);
        Assert.True(result.Succeeded, $"ovs-ofctl {string.Join(' ', args)}: {result}");
        return result.Output;
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(System.IO.Path.Combine(dir, tool)));
}

/// <summary>A fact that runs Debian's Open vSwitch tools: skipped with the reason where they are missing.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OvsToolFactAttribute : FactAttribute
{
    public OvsToolFactAttribute(params string[] tools)
    {
        if (OvsTools.WhyMissing(tools) is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A theory that runs Debian's Open vSwitch tools: skipped with the reason where they are missing.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OvsToolTheoryAttribute : TheoryAttribute
{
    public OvsToolTheoryAttribute(params string[] tools)
    {
        if (OvsTools.WhyMissing(tools) is { } reason)
        {
            Skip = reason;
        }
    }
}
