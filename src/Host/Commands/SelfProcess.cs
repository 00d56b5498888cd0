using System.Diagnostics;
using System.Reflection;

namespace Host.Commands;

/// <summary>How a command starts its own executable again as a second process (node B of a two-process datapath).</summary>
internal static class SelfProcess
{
    /// <summary>
    /// The start of a command line that runs <paramref name="assembly"/> again: the running executable
    /// when it is the apphost named <paramref name="executable"/>, else the assembly through the dotnet
    /// host (under `dotnet NAME.dll` or a test host). Standard output redirected; the caller adds the arguments.
    /// </summary>
    public static ProcessStartInfo StartInfo(string executable, Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var start = new ProcessStartInfo { UseShellExecute = false, RedirectStandardOutput = true };
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self).StartsWith(executable, StringComparison.Ordinal))
        {
            start.FileName = self;
        }
        else
        {
            start.FileName = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
            start.ArgumentList.Add(assembly.Location);
        }

        return start;
    }
}
