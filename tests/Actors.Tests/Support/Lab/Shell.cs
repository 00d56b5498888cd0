using System.Diagnostics;
using System.Text;

namespace Actors.Tests.Support.Lab;

/// <summary>What a finished command printed and returned; <see cref="TimedOut"/> when it was killed at its time limit.</summary>
public sealed record ShellResult(int ExitCode, string Output, string Error, bool TimedOut)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    public override string ToString() => $"exit {ExitCode}{(TimedOut ? " (timed out)" : string.Empty)}: {Output.Trim()} {Error.Trim()}";
}

/// <summary>Runs lab commands (ip, ping, curl, python3...) with a time limit; a command never outlives its limit.</summary>
public static class Shell
{
    public static async Task<ShellResult> RunAsync(TimeSpan timeout, params string[] command)
    {
        using var process = Start(command);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout);
        bool timedOut = false;
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            // A process that ended as the limit came (its exit seen late on a busy machine) did not time out.
            if (!process.HasExited)
            {
                timedOut = true;
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
        }

        return new ShellResult(process.ExitCode, await output, await error, timedOut);
    }

    /// <summary>Runs a command that must succeed (lab setup); throws with its output otherwise.</summary>
    public static async Task<string> CheckAsync(params string[] command)
    {
        var result = await RunAsync(TimeSpan.FromSeconds(10), command);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"{string.Join(' ', command)}: {result}");
        }

        return result.Output;
    }

    internal static Process Start(string[] command)
    {
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("cannot start " + command[0]);
    }
}

/// <summary>A command left running (a server in a namespace): its output lines are kept; disposing kills it and its children.</summary>
public sealed class BackgroundProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly SemaphoreSlim _lines = new(0);

    public BackgroundProcess(params string[] command)
    {
        _process = Shell.Start(command);
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Waits until the process has printed <paramref name="text"/>; false at the timeout or when it exited without.</summary>
    public async Task<bool> WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || (_process.HasExited && !Output.Contains(text, StringComparison.Ordinal) && !await _lines.WaitAsync(100)))
            {
                return Output.Contains(text, StringComparison.Ordinal);
            }

            await _lines.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }

        return true;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // It had already gone.
        }

        _process.Dispose();
        _lines.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        try
        {
            _lines.Release();
        }
        catch (ObjectDisposedException)
        {
            // A last line after the kill: nobody waits for it.
        }
    }
}
