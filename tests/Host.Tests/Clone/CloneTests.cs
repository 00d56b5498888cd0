using System.Diagnostics;
using System.Text.RegularExpressions;
using Datapath.Tests.Support;

namespace Host.Tests.Clone;

/// <summary>
/// The repository stands alone: its tracked files, copied to a directory with nothing beside it,
/// run the README's main-job command and a test project that reads tests/data. Slow (two builds
/// from nothing), so it runs alone, after the other tests of this assembly (category Slow:
/// <c>dotnet test --filter Category!=Slow</c> leaves it out).
/// </summary>
[Collection(CloneCollection.Name)]
[Trait("Category", "Slow")]
public sealed partial class CloneTests : IDisposable
{
    private static readonly TimeSpan BuildAndRun = TimeSpan.FromMinutes(15);
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("ovs-actors-clone-");

    public void Dispose() => _scratch.Delete(recursive: true);

    [CloneFact]
    public async Task A_copy_of_the_tracked_files_runs_the_main_job_and_the_tests_that_read_tests_data()
    {
        // Nothing beside the copy: not ../shared, not the worktree's build outputs or packages folders.
        string clone = await CopyTrackedFilesAsync(Path.Combine(_scratch.FullName, "ovs-actors"));
        Assert.Equal([clone], Directory.GetFileSystemEntries(_scratch.FullName));

        string[] mainJob = [.. ReadmeMainJobCommand(File.ReadAllText(Path.Combine(clone, "README.md"))), "--", "run", "--duration", "1", "--pmds", "1", "--connections", "20", "--control", "off"];
        var run = await RunAsync(clone, mainJob);
        Assert.True(run.ExitCode == 0, $"{string.Join(' ', mainJob)} exited {run.ExitCode}:\n{run.Output}\n{run.Error}");
        Assert.Matches(@"throughput: \d+\.\d\d Mpps over \d+\.\d s \(\d+ packets\)", run.Output);

        // The replay tests read the captures and Open vSwitch's verdicts from tests/data.
        var test = await RunAsync(clone, "dotnet", "test", "tests/Datapath.Tests", "--filter", "FullyQualifiedName~Datapath.Tests.Replay");
        Assert.True(test.ExitCode == 0, $"dotnet test exited {test.ExitCode}:\n{test.Output}\n{test.Error}");
        var summary = TestSummary().Match(test.Output);
        Assert.True(summary.Success, "no test summary in:\n" + test.Output);
        Assert.Equal("0", summary.Groups["failed"].Value);
        Assert.Equal("0", summary.Groups["skipped"].Value);
        Assert.NotEqual("0", summary.Groups["passed"].Value);
    }

    [Fact]
    public void Nothing_in_src_tests_or_ci_reads_the_shared_folder_beside_the_repository()
    {
        string root = RepositoryRoot();
        var readers = new[] { "src", "tests", ".ci" }
            .SelectMany(folder => Directory.EnumerateFiles(Path.Combine(root, folder), "*", SearchOption.AllDirectories))
            .Where(file => !IsBuildOutput(file) && !file.EndsWith(".pcap", StringComparison.Ordinal) && Path.GetRelativePath(root, file) != ThisFile)
            .Where(file => SharedFolder().IsMatch(File.ReadAllText(file)))
            .Select(file => Path.GetRelativePath(root, file))
            .ToList();

        Assert.Empty(readers);
    }

    [Fact]
    public void The_READMEs_main_job_command_runs_an_optimised_build()
    {
        // `dotnet run` alone builds for debugging, at about a quarter of the speed.
        var command = ReadmeMainJobCommand(File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md")));

        int configuration = Array.FindIndex(command, word => word is "-c" or "--configuration");
        Assert.True(configuration >= 0 && configuration + 1 < command.Length, string.Join(' ', command) + ": no -c");
        Assert.Equal("Release", command[configuration + 1]);
    }

    /// <summary>The README's main-job command (the first <c>dotnet run ... --project src/Host</c> line of a shell block), as arguments.</summary>
    internal static string[] ReadmeMainJobCommand(string readme)
    {
        var line = readme.ReplaceLineEndings("\n").Split('\n')
            .Select(l => l.Split('#')[0].Trim())
            .FirstOrDefault(l => l.StartsWith("dotnet run", StringComparison.Ordinal) && l.Contains("--project src/Host", StringComparison.Ordinal));
        Assert.NotNull(line);
        return line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>This file, which names the folder in its patterns.</summary>
    private static string ThisFile => Path.Combine("tests", "Host.Tests", "Clone", "CloneTests.cs");

    internal static string RepositoryRoot() => Path.GetFullPath(Path.Combine(TestData.Root, "..", ".."));

    private static bool IsBuildOutput(string file) =>
        file.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or "TestResults" or "BenchmarkDotNet.Artifacts");

    /// <summary>Copies the files git tracks (as they are in the working tree) to <paramref name="destination"/>.</summary>
    private static async Task<string> CopyTrackedFilesAsync(string destination)
    {
        string root = RepositoryRoot();
        var listed = await RunAsync(root, "git", "ls-files", "-z");
        Assert.True(listed.ExitCode == 0, "git ls-files: " + listed.Error);
        foreach (string file in listed.Output.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            string source = Path.Combine(root, file);
            if (File.Exists(source))
            {
                string target = Path.Combine(destination, file);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(source, target);
            }
        }

        return destination;
    }

    /// <summary>Runs a command in <paramref name="directory"/> to its end (killed with its children past the limit).</summary>
    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string directory, params string[] command)
    {
        var info = new ProcessStartInfo(command[0] == "dotnet" ? CloneFactAttribute.Dotnet : command[0])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        // None of this test run's settings (the test host's MSBuild and VSTest variables), and a
        // build that leaves no servers behind.
        foreach (string key in info.Environment.Keys.Where(k => k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase) || k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["UseSharedCompilation"] = "false";

        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start " + command[0]);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(BuildAndRun);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"{string.Join(' ', command)} ran past {BuildAndRun.TotalMinutes} min:\n{await output}\n{await error}");
        }

        return (process.ExitCode, await output, await error);
    }

    [GeneratedRegex(@"Failed:\s+(?<failed>\d+), Passed:\s+(?<passed>\d+), Skipped:\s+(?<skipped>\d+)")]
    private static partial Regex TestSummary();

    [GeneratedRegex(@"\.\./shared|""\.\.""\s*,\s*""shared""|/work/shared")]
    private static partial Regex SharedFolder();
}

/// <summary>Runs the clone test alone: after this assembly's parallel tests, never beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CloneCollection
{
    public const string Name = "clone (alone)";
}

/// <summary>A fact that needs git and the .NET SDK (it builds a copy of the repository): skipped with the reason where either is missing.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class CloneFactAttribute : FactAttribute
{
    public CloneFactAttribute()
    {
        if (WhyUnavailable() is { } reason)
        {
            Skip = reason;
        }
    }

    /// <summary>The dotnet that runs these tests (dotnet test sets DOTNET_HOST_PATH), else the one on the PATH.</summary>
    internal static string Dotnet =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static string? WhyUnavailable()
    {
        if (!Succeeds("git", "--version"))
        {
            return "needs git on the PATH (it copies the files git tracks)";
        }

        if (!Succeeds("git", "-C", CloneTests.RepositoryRoot(), "rev-parse", "--is-inside-work-tree"))
        {
            return "needs a git checkout of the repository (this is a copy without .git)";
        }

        return Succeeds(Dotnet, ["--list-sdks"], requireOutput: true)
            ? null
            : "needs the .NET SDK (dotnet --list-sdks lists none): it builds the copy";
    }

    private static bool Succeeds(string command, params string[] arguments) => Succeeds(command, arguments, requireOutput: false);

    private static bool Succeeds(string command, string[] arguments, bool requireOutput)
    {
        try
        {
            var info = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info);
            if (process is null)
            {
                return false;
            }

            string output = process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 && (!requireOutput || output.Trim().Length > 0);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // Not installed.
        }
    }
}
