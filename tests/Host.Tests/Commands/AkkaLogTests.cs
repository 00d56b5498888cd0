using Datapath.Tests.Support;
using Host.Tests.Support;

namespace Host.Tests.Commands;

/// <summary>Akka's log goes to stderr: standard output carries the results alone, whatever Akka says.</summary>
public sealed class AkkaLogTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Everything_Akka_logs_while_a_replay_starts_runs_and_stops_is_on_stderr_and_stdout_holds_only_verdicts()
    {
        // Every level, including what Akka logs before its loggers start and after they stop.
        string config = _scratch.Write("chatty.conf", "akka.loglevel = DEBUG\nakka.stdout-loglevel = DEBUG\n");

        var result = await OvsActorsProcess.RunAsync(Patience, "replay", "--pcap", TestData.Capture("icmp.pcap"), "--config", config);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(File.ReadAllText(TestData.Capture(Path.Combine("expected", "icmp.verdict"))), result.Output.ReplaceLineEndings("\n"));
        Assert.Contains("[DEBUG]", result.Error, StringComparison.Ordinal);
        Assert.Contains("StandardErrorLogger", result.Error, StringComparison.Ordinal);
        Assert.Contains("CoordinatedShutdown", result.Error, StringComparison.Ordinal);
    }
}
