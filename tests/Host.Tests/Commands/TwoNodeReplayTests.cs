using Actors.Tests.Support.Lab;
using Datapath.Tests.Support;

namespace Host.Tests.Commands;

/// <summary>
/// `replay --nodes 2`: a cluster of two real OS processes on 127.0.0.1 (this test starts node A, node A
/// starts node B), port 1's frames on A and port 2's on B, gives Open vSwitch's verdicts for every capture
/// that has them: every connection is tracked by one shard whichever node its packets enter. Both
/// processes start once for all the captures (each capture runs as if alone).
/// </summary>
public sealed class TwoNodeReplayTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);

    [Theory]
    [InlineData("off")]
    [InlineData("megaflow")]
    public async Task Two_processes_give_the_single_node_verdicts_for_every_capture(string bypass)
    {
        var expected = Directory.EnumerateFiles(Path.Combine(TestData.Captures, "expected"), "*.verdict").Order(StringComparer.Ordinal).ToList();
        Assert.True(expected.Count >= 9, $"only {expected.Count} captures with verdicts in {TestData.Captures}");
        string directory = Directory.CreateTempSubdirectory("two-node-replay-").FullName;
        try
        {
            string host = Path.Combine(AppContext.BaseDirectory, "ovs-actors.dll");
            var command = new List<string> { Environment.ProcessPath!, host, "replay", "--nodes", "2", "--bypass", bypass, "--pmds", "2", "--verdicts-dir", directory };
            foreach (string verdicts in expected)
            {
                command.Add("--pcap");
                command.Add(TestData.Capture(Path.GetFileNameWithoutExtension(verdicts) + ".pcap"));
            }

            var result = await Shell.RunAsync(Patience, [.. command]);

            Assert.False(result.TimedOut, result.Error);
            Assert.Equal(0, result.ExitCode);
            Assert.Equal(string.Empty, result.Output);
            Assert.All(expected, verdicts => Assert.Equal(File.ReadAllLines(verdicts), File.ReadAllLines(Path.Combine(directory, Path.GetFileName(verdicts)))));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
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

    [Theory]
    [InlineData("more than one --pcap writes its verdicts to --verdicts-dir", "udp-dns.pcap", "icmp.pcap")]
    [InlineData("--dump-conntrack, --flush-conntrack and --tx-pcap-dir take one --pcap", "udp-dns.pcap", "icmp.pcap", "--verdicts-dir", "DIR", "--dump-conntrack")]
    [InlineData("two captures of one name would write one verdict file", "udp-dns.pcap", "udp-dns.pcap", "--verdicts-dir", "DIR")]
    [InlineData("--verdicts and --verdicts-dir are one or the other", "udp-dns.pcap", "--verdicts-dir", "DIR", "--verdicts", "DIR/x")]
    public void Captures_that_cannot_go_together_are_refused_by_name(string reason, params string[] arguments)
    {
        string directory = Path.Combine(Path.GetTempPath(), "never-made-" + Guid.NewGuid().ToString("N"));
        var args = new List<string> { "replay", "--nodes", "2" };
        foreach (string argument in arguments)
        {
            args.AddRange(argument.EndsWith(".pcap", StringComparison.Ordinal) ? ["--pcap", TestData.Capture(argument)] : [argument.Replace("DIR", directory, StringComparison.Ordinal)]);
        }

        var (output, error) = (new StringWriter(), new StringWriter());
        Assert.Equal(2, Program.Run([.. args], output, error));
        Assert.Contains(reason, error.ToString(), StringComparison.Ordinal);
        Assert.Equal(string.Empty, output.ToString());
        Assert.False(Directory.Exists(directory));
    }
}
