using System.Text.RegularExpressions;
using Datapath.Tests.Support;
using Host.Tests.Support;

namespace Host.Tests.Install;

/// <summary>
/// README.md's installation, run as written: `dotnet pack` to a folder, `dotnet tool install` from
/// it, then `ovs-actors` by name. Only the places change (a scratch folder for the package and a
/// tool path instead of --global, so the test installs nothing for the user).
/// </summary>
public sealed partial class ToolInstallTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(10);
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task The_README_installs_ovs_actors_as_a_dotnet_tool_that_replays_a_capture()
    {
        string root = Path.GetDirectoryName(Path.GetDirectoryName(TestData.Root))!;
        var lines = InstallBlock(File.ReadAllText(Path.Combine(root, "README.md")));
        Assert.Equal(3, lines.Count);
        string artifacts = Path.Combine(_scratch.Path, "artifacts");
        string tools = Path.Combine(_scratch.Path, "tools");

        var pack = Words(lines[0]).Select(w => w == "artifacts" ? artifacts : w).ToArray();
        var install = Words(lines[1]).Select(w => w == "artifacts" ? artifacts : w == "--global" ? "--tool-path" : w).ToList();
        install.Insert(install.IndexOf("--tool-path") + 1, tools);
        var use = Words(lines[2]);
        Assert.Equal(["dotnet", "pack"], pack[..2]);
        Assert.Equal("Release", pack[Array.IndexOf(pack, "-c") + 1]);
        Assert.Equal(["dotnet", "tool", "install"], install[..3]);
        Assert.Equal("ovs-actors", use[0]);

        var packed = await OvsActorsProcess.RunProgramAsync(pack[0], root, Patience, pack[1..]);
        Assert.True(packed.ExitCode == 0, packed.ToString());
        // Its own package cache: NuGet's would hand back an older pack of the same version.
        var cache = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(_scratch.Path, "packages") };
        var installed = await OvsActorsProcess.RunProgramAsync(install[0], root, Patience, [.. install.Skip(1)], cache);
        Assert.True(installed.ExitCode == 0, installed.ToString());
        var replayed = await OvsActorsProcess.RunProgramAsync(Path.Combine(tools, "ovs-actors"), root, Patience, use[1..]);

        Assert.True(replayed.ExitCode == 0, replayed.ToString());
        string capture = Path.GetFileNameWithoutExtension(use[Array.IndexOf(use, "--pcap") + 1]);
        Assert.Equal(File.ReadAllText(TestData.Capture(Path.Combine("expected", capture + ".verdict"))), replayed.Output.ReplaceLineEndings("\n"));
        Assert.Empty(replayed.Error);
    }

    /// <summary>The commands of the README's fenced block that installs the tool (the one with `dotnet tool install`), without comments.</summary>
    private static List<string> InstallBlock(string readme)
    {
        foreach (Match block in FencedBlock().Matches(readme))
        {
            if (block.Groups[1].Value.Contains("dotnet tool install", StringComparison.Ordinal))
            {
                return block.Groups[1].Value.Split('\n')
                    .Select(l => (l.Contains('#', StringComparison.Ordinal) ? l[..l.IndexOf('#', StringComparison.Ordinal)] : l).Trim())
                    .Where(l => l.Length > 0)
                    .ToList();
            }
        }

        throw new InvalidOperationException("README.md has no block with `dotnet tool install`");
    }

    private static string[] Words(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [GeneratedRegex("```sh\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex FencedBlock();
}
