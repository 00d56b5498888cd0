using System.Globalization;
using System.Text.RegularExpressions;

namespace Bench.Tests;

/// <summary>
/// `handoff-bench` on a small table: node B (a second process) joins, takes half the shards with
/// every connection, leaves and gives them back; the counts it reports are those of the tables. The
/// times and memory it prints are measurements, not checked here.
/// </summary>
public sealed partial class HandoffBenchCommandTests
{
    [Fact]
    public void A_small_table_moves_to_the_joining_process_and_back_whole()
    {
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter();

        int exit = Program.Run(["handoff-bench", "--connections", "2000", "--shards", "2"], output, error);

        Assert.Equal(0, exit);
        Assert.Empty(error.ToString());
        string text = output.ToString();
        Assert.Contains("2 shards x 2000 UDP connections on node A (4000 in the tables", text, StringComparison.Ordinal);
        var moves = Move().Matches(text);
        Assert.Equal(["join (A -> B)", "leave (B -> A)"], moves.Select(m => m.Groups["move"].Value));
        Assert.All(moves, m =>
        {
            Assert.Equal("1", m.Groups["tables"].Value);
            Assert.Equal("2000", m.Groups["connections"].Value);
            Assert.Equal("0", m.Groups["rejected"].Value);
            Assert.Equal("0", m.Groups["lost"].Value);

            // The chunk format's size per connection, whatever it holds (tuple, state, timeouts, expiry...).
            Assert.InRange(double.Parse(m.Groups["perConnection"].Value, CultureInfo.InvariantCulture), 50, 300);
        });
        Assert.Matches(@"wire: [\d.]+ MiB over TCP|memory", text);
    }

    [Fact]
    public void Sizes_out_of_bounds_are_refused()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(2, Program.Run(["handoff-bench", "--shards", "1"], output, error));
        Assert.Equal(2, Program.Run(["handoff-bench", "--connections", "0"], output, error));
        Assert.Equal(2, Program.Run(["handoff-bench", "--connections", "30000000", "--shards", "2"], output, error));
        Assert.Empty(output.ToString());
        Assert.Contains("handoff-bench: --connections must be positive", error.ToString(), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^(?<move>join \(A -> B\)|leave \(B -> A\)): (?<tables>\d+) tables, (?<connections>\d+) connections, [\d.]+ MiB of chunks \((?<perConnection>[\d.]+) bytes per connection\), (?<rejected>\d+) chunks rejected, (?<lost>\d+) connections lost$", RegexOptions.Multiline)]
    private static partial Regex Move();
}
