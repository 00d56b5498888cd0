using Actors.Tests.Support.Lab;
using Datapath.Tests.Support;

namespace Host.Tests.Commands;

/// <summary>
/// `replay --nodes 2`: a cluster of two real OS processes on 127.0.0.1 (this test starts node A, node A
/// starts node B), port 1's frames on A and port 2's on B, gives Open vSwitch's verdicts for the capture:
/// every connection is tracked by one shard whichever node its packets enter.
/// </summary>
public sealed class TwoNodeReplayTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData("udp-dns", "off")]
    [InlineData("tcp-reverse", "megaflow")]
    public async Task Two_processes_give_the_single_node_verdicts(string capture, string bypass)
    {
        string host = Path.Combine(AppContext.BaseDirectory, "ovs-actors.dll");
        var result = await Shell.RunAsync(
            Patience,
            Environment.ProcessPath!, host, "replay", "--nodes", "2", "--pcap", TestData.Capture(capture + ".pcap"), "--bypass", bypass, "--pmds", "2");

        Assert.False(result.TimedOut, result.Error);
        Assert.Equal(0, result.ExitCode);
        var expected = File.ReadAllLines(Path.Combine(TestData.Captures, "expected", capture + ".verdict"));
        Assert.Equal(expected, result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Three_nodes_or_inline_with_two_are_refused()
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        Assert.Equal(2, Program.Run(["replay", "--nodes", "3", "--pcap", TestData.Capture("udp-dns.pcap")], output, error));
        Assert.Equal(2, Program.Run(["replay", "--nodes", "2", "--inline", "--pcap", TestData.Capture("udp-dns.pcap")], output, error));
        Assert.Contains("--nodes is 1 or 2", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(string.Empty, output.ToString());
    }
}
