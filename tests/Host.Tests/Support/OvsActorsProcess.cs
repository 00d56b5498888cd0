using System.Diagnostics;

namespace Host.Tests.Support;

/// <summary>Runs a program as a separate process (ovs-actors from this test's output folder, dotnet, a shell) and collects what it wrote.</summary>
public static class OvsActorsProcess
{
    /// <summary>The ovs-actors executable built beside these tests.</summary>
    public static string Executable => Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "ovs-actors.exe" : "ovs-actors");

    /// <summary>Runs ovs-actors with <paramref name="args"/>.</summary>
    public static Task<ProcessResult> RunAsync(TimeSpan timeout, params string[] args) => RunProgramAsync(Executable, null, timeout, args);

    /// <summary>Runs <paramref name="program"/> in <paramref name="directory"/> (null: the current one), killing it after <paramref name="timeout"/>.</summary>
    public static Task<ProcessResult> RunProgramAsync(string program, string? directory, TimeSpan timeout, params string[] args) =>
        RunProgramAsync(program, directory, timeout, args, null);

    /// <summary>The same, with environment variables set for the process.</summary>
    public static async Task<ProcessResult> RunProgramAsync(string program, string? directory, TimeSpan timeout, string[] args, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory ?? Environment.CurrentDirectory,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not end within {timeout}; stderr so far: {(error.IsCompleted ? error.Result : "")}");
        }

        return new ProcessResult(process.ExitCode, await output, await error);
    }
}

/// <summary>A finished process: its exit code and everything it wrote on each stream.</summary>
public sealed record ProcessResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}
