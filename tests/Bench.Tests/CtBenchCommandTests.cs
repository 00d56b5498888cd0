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

    private static (int Exit, string Output, string Error) Invoke(params string[] args)
    {
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter();
        int exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [GeneratedRegex(@"^(region|direct): (?<packets>\d+) packets in [\d.]+ s: (?<mpps>[\d.]+) Mpps, [\d.]+ ns/packet, (?<messages>[\d.]+) messages per batch$")]
    private static partial Regex ResultLine();
}
