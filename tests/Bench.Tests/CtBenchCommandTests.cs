using System.Globalization;
using System.Text.RegularExpressions;

namespace Bench.Tests;

public sealed partial class CtBenchCommandTests
{
    [Fact]
    public void A_tiny_run_measures_both_routes_and_exits_by_itself()
    {
        var (exit, output, error) = Invoke("ct-bench", "--senders", "2", "--shards", "4", "--packets", "100", "--connections", "10", "--window", "2");

        Assert.Equal(0, exit);
        Assert.Empty(error);
        Assert.Contains("2 senders x 100 packets, batches of 32, window 2, 4 shards, 10 UDP connections per sender", output, StringComparison.Ordinal);
        foreach (string route in new[] { "region", "direct" })
        {
            var match = ResultLine().Match(output.Split('\n').Single(l => l.StartsWith(route, StringComparison.Ordinal)));
            Assert.True(match.Success, output);
            Assert.Equal(200, long.Parse(match.Groups["packets"].Value, CultureInfo.InvariantCulture));
            Assert.True(double.Parse(match.Groups["mpps"].Value, CultureInfo.InvariantCulture) > 0);

            // 100 packets per sender: batches of 32, 32, 32 and 4, each split over at most 4 shards.
            Assert.InRange(double.Parse(match.Groups["messages"].Value, CultureInfo.InvariantCulture), 1, 4);
        }
    }

    [Fact]
    public void One_route_can_be_chosen()
    {
        var (exit, output, _) = Invoke("ct-bench", "--shards", "2", "--packets", "40", "--route", "direct");

        Assert.Equal(0, exit);
        Assert.Contains("direct:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("region:", output, StringComparison.Ordinal);
    }

    [Fact]
    public void With_two_nodes_the_remote_shards_are_measured_after_the_local_ones_with_the_bytes_they_put_on_the_wire()
    {
        var (exit, output, error) = Invoke("ct-bench", "--nodes", "2", "--senders", "1", "--shards", "2", "--packets", "640", "--connections", "10", "--route", "region");

        Assert.Equal(0, exit);
        Assert.Empty(error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => ResultLine().IsMatch(l)).ToList();
        Assert.Equal(["region", "remote region"], lines.Select(l => l[..l.IndexOf(':', StringComparison.Ordinal)]));
        var local = ResultLine().Match(lines[0]);
        var remote = ResultLine().Match(lines[1]);
        Assert.Equal("0.0", local.Groups["bytes"].Value);

        // The same messages either way; over the wire each carries its packets' inputs or results, at least
        // a conntrack input's worth per packet. (The sum of bytes_received of `ss`; unknown where it cannot run.)
        Assert.Equal(local.Groups["perPacket"].Value, remote.Groups["perPacket"].Value);
        if (remote.Groups["bytes"].Value != "unknown")
        {
            Assert.True(double.Parse(remote.Groups["bytes"].Value, CultureInfo.InvariantCulture) > 40, lines[1]);
        }
    }

    [Fact]
    public void Three_nodes_are_refused()
    {
        var (exit, output, error) = Invoke("ct-bench", "--nodes", "3");

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Contains("--nodes is 1 or 2", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--senders", "0")]
    [InlineData("--window", "0")]
    [InlineData("--packets", "-3")]
    public void Non_positive_sizes_are_refused(string option, string value)
    {
        var (exit, output, error) = Invoke("ct-bench", option, value);

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.StartsWith("ct-bench: ", error, StringComparison.Ordinal);
    }

    private static (int Exit, string Output, string Error) Invoke(params string[] args) => BenchCli.Invoke(args);

    [GeneratedRegex(@"^(remote )?(region|direct): (?<packets>\d+) packets in [\d.]+ s: (?<mpps>[\d.]+) Mpps, [\d.]+ ns/packet, (?<messages>[\d.]+) messages per batch, (?<perPacket>[\d.]+) messages per packet \(batches and answers\), (?<bytes>[\d.]+|unknown) bytes per packet on the wire$")]
    private static partial Regex ResultLine();
}
