using System.Text.RegularExpressions;
using Host.Tests.Support;

namespace Host.Tests.Commands;

public sealed partial class RunCommandTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void The_main_job_cross_connects_every_packet_between_ports_1_and_2()
    {
        var (exit, report, error) = Invoke("run", "--packets", "6400", "--connections", "10");

        Assert.Equal(0, exit);
        Assert.Empty(error);
        Assert.Equal(6400, Counter(report, "packets received"));
        Assert.Equal(0, Counter(report, "packet recirculations"));
        Assert.Equal(2, Counter(report, "miss with success upcall"));
        Assert.Equal(0, Counter(report, "miss with failed upcall"));
        Assert.Equal(0, Counter(report, "malformed frames"));
        Assert.Equal(0, Counter(report, "dropped"));
        Assert.Equal(6400 - 2, Counter(report, "emc hits") + Counter(report, "megaflow hits"));
        Assert.Contains("megaflows installed: 2 in 1 subtable(s)", report, StringComparison.Ordinal);

        // 64-byte frames (the embedded default), half of them from each side.
        foreach (int port in new[] { 1, 2 })
        {
            var counts = PortLine(report, port);
            Assert.Equal(3200, counts.RxPackets);
            Assert.Equal(3200, counts.TxPackets);
            Assert.Equal(3200 * 64, counts.RxBytes);
            Assert.Equal(3200 * 64, counts.TxBytes);
        }
    }

    [Fact]
    public void Run_is_the_default_command()
    {
        var (exit, report, _) = Invoke("--packets", "640", "--connections", "3");

        Assert.Equal(0, exit);
        Assert.Equal(640, Counter(report, "packets received"));
    }

    [Fact]
    public void A_config_file_is_layered_over_the_embedded_default()
    {
        string path = _scratch.Write("no-emc.conf", "datapath.emc-entries = 0\ndatapath.generator.packets = 960\n");

        var (exit, report, error) = Invoke("run", "--config", path);

        Assert.Equal(0, exit);
        Assert.Empty(error);
        Assert.Equal(960, Counter(report, "packets received"));
        Assert.Equal(0, Counter(report, "emc hits"));
        Assert.Equal(960 - 2, Counter(report, "megaflow hits"));
    }

    [Fact]
    public void A_config_file_with_an_unknown_key_exits_2_naming_the_key()
    {
        string path = _scratch.Write("typo.conf", "datapath.emc-entires = 4096\n");

        var (exit, report, error) = Invoke("run", "--config", path, "--packets", "64");

        Assert.Equal(2, exit);
        Assert.Empty(report);
        Assert.Contains("datapath.emc-entires", error, StringComparison.Ordinal);
        Assert.Contains(path, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--packets", "0")]
    [InlineData("--packets", "-5")]
    [InlineData("--connections", "0")]
    public void A_count_that_is_not_positive_exits_2(string option, string value)
    {
        var (exit, report, error) = Invoke("run", option, value);

        Assert.Equal(2, exit);
        Assert.Empty(report);
        Assert.Contains(option, error, StringComparison.Ordinal);
    }

    private static (int Exit, string Output, string Error) Invoke(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>The value of a pmd-stats-show style "  name: N" line (exactly one such line).</summary>
    private static long Counter(string report, string name)
    {
        var matches = Regex.Matches(report, "^\\s*" + Regex.Escape(name) + ": (\\d+)$", RegexOptions.Multiline);
        Assert.Single(matches);
        return long.Parse(matches[0].Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static (long RxPackets, long RxBytes, long TxPackets, long TxBytes) PortLine(string report, int port)
    {
        Match m = PortPattern().Match(report.Replace("\r", string.Empty, StringComparison.Ordinal) + "\n");
        for (; m.Success; m = m.NextMatch())
        {
            if (m.Groups[1].Value == port.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                return (Long(m, 2), Long(m, 3), Long(m, 4), Long(m, 5));
            }
        }

        Assert.Fail($"No counters for port {port} in:\n{report}");
        return default;

        static long Long(Match m, int group) => long.Parse(m.Groups[group].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^port (\d+): rx pkts=(\d+), bytes=(\d+); tx pkts=(\d+), bytes=(\d+)$", RegexOptions.Multiline)]
    private static partial Regex PortPattern();
}
