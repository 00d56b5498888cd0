using Datapath.Packets.Pcap;
using Datapath.Tests.Support;
using Host.Tests.Support;

namespace Host.Tests.Commands;

/// <summary>
/// `replay --inline` runs on the configured conntrack settings exactly as the actor replay does:
/// the connection limit, zone limits and timeouts of `--config`, and `--dump-conntrack` shows the
/// same table. One shard, so that the actors' limit is the whole limit (several shards each
/// enforce their share, hocon/datapath.conf).
/// </summary>
public sealed class ReplaySettingsTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    public static TheoryData<string, int> Limits() => new()
    {
        { "connection-limit = 50", 50 },
        { "zone-limits { 0 = 20 }", 20 },
    };

    [Theory]
    [MemberData(nameof(Limits))]
    public void A_limit_commits_the_same_connections_inline_and_on_the_actors(string limit, int connections)
    {
        // many-conns: 200 connections from port 1, each a handshake, a request and a teardown.
        string config = _scratch.Write("limit.conf", $"datapath.conntrack {{ shards = 1\n{limit} }}\n");
        string pcap = TestData.Capture("many-conns.pcap");

        var inline = Replay("--pcap", pcap, "--config", config, "--inline", "--dump-conntrack");
        var actors = Replay("--pcap", pcap, "--config", config, "--pmds=2", "--dump-conntrack");
        var unlimited = Replay("--pcap", pcap, "--inline", "--dump-conntrack");

        Assert.Equal(Verdicts(inline), Verdicts(actors));
        Assert.Equal(Connections(inline), Connections(actors));
        Assert.Equal(connections, Connections(inline).Count);
        Assert.Equal(200, Connections(unlimited).Count);
        Assert.True(Forwarded(inline) < Forwarded(unlimited), "the limit dropped nothing");
    }

    [Fact]
    public void Configured_timeouts_expire_the_same_connections_inline_and_on_the_actors()
    {
        // udp-dns with its frames 2 s apart: each answer comes 2 s after its request, after the
        // configured udp-first of 1 s (Open vSwitch's default is 60 s): the answers are dropped.
        string spread = SpreadTwoSecondsApart(TestData.Capture("udp-dns.pcap"));
        string config = _scratch.Write("short.conf", "datapath.conntrack.timeouts.udp-first = 1s\n");

        var inline = Replay("--pcap", spread, "--config", config, "--inline");
        var actors = Replay("--pcap", spread, "--config", config, "--pmds=1");
        var defaults = Replay("--pcap", spread, "--inline");

        Assert.Equal(Verdicts(inline), Verdicts(actors));
        Assert.Equal(20, Verdicts(inline).Count(v => v.EndsWith(" 2 -> drop", StringComparison.Ordinal)));
        Assert.DoesNotContain(Verdicts(defaults), v => v.EndsWith("drop", StringComparison.Ordinal));
    }

    private string SpreadTwoSecondsApart(string pcap)
    {
        string path = Path.Combine(_scratch.Path, "spread.pcap");
        using var reader = PcapReader.Open(pcap);
        using var writer = PcapWriter.Create(path);
        long time = 1_000_000_000_000;
        while (reader.TryReadNext(out _))
        {
            writer.Write(reader.CurrentFrame, time);
            time += 2_000_000_000;
        }

        return path;
    }

    private static string Replay(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int exit = Program.Run(["replay", .. args], output, error);
        Assert.True(exit == 0, $"replay {string.Join(' ', args)}: exit {exit}: {error}");
        return output.ToString().ReplaceLineEndings("\n");
    }

    private static List<string> Verdicts(string output) => output.Split('\n').Where(l => l.Contains(" -> ", StringComparison.Ordinal)).ToList();

    private static List<string> Connections(string output) => output.Split('\n').Where(l => l.StartsWith("tcp,", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    private static int Forwarded(string output) => Verdicts(output).Count(v => !v.EndsWith("drop", StringComparison.Ordinal));
}
