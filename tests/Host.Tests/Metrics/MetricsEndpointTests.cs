using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Host.Tests.Support;
using TestSupport.Waiting;

namespace Host.Tests.Metrics;

/// <summary>The Prometheus endpoint of `run`, scraped over HTTP while the main job runs in this process.</summary>
public sealed partial class MetricsEndpointTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task A_run_with_metrics_on_serves_pmd_port_and_shard_series_on_loopback_consistent_with_its_summary()
    {
        // Ended by the control channel once both scrapes are in (a fixed duration was too short on a loaded machine).
        string socket = Path.Combine(_scratch.Path, "ctl", "ovs-actors.ctl");
        var run = await ServingAsync(port =>
        {
            string config = _scratch.Write("metrics.conf", $"datapath.metrics {{ enabled = on, port = {port} }}\n");
            return ["run", "--config", config, "--control", socket, "--duration", "120", "--pmds", "2", "--connections", "20"];
        });
        int port = run.Port;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };

        List<Sample> first, later;
        try
        {
            first = await ScrapeUntilAsync(http, run, HasTraffic, "traffic in the metrics");
            Assert.Equal([IPAddress.Loopback], TcpListeners.On(port));
            later = await ScrapeUntilAsync(http, run, s => EveryPmdCounted(s) && Total(s) > Total(first), "every PMD counting, more than at the first scrape");
        }
        finally
        {
            await Eventually.Until(() => run.Job.IsCompleted || Call("exit", "--target", socket) == 0, "the run told to exit", Patience);
        }

        Assert.Equal(0, await run.Job.WaitAsync(Patience));
        string summary = run.Output.ToString();

        // Per PMD: the same PMDs as the summary, counting up between scrapes, never past the final count.
        var firstPackets = first.By("ovs_actors_pmd_packets_received_total", "pmd");
        var laterPackets = later.By("ovs_actors_pmd_packets_received_total", "pmd");
        var finalPackets = SummaryPmdPackets(summary);
        Assert.Equal(finalPackets.Keys.Order(), laterPackets.Keys.Order());
        Assert.All(finalPackets, p =>
        {
            Assert.True(laterPackets[p.Key] > 0, $"pmd {p.Key} received packets");
            Assert.InRange(firstPackets[p.Key], 0, laterPackets[p.Key]);
            Assert.InRange(laterPackets[p.Key], 1, p.Value);
        });
        Assert.Equal(["failed", "ok"], later.Where(s => s.Name == "ovs_actors_pmd_upcalls_total" && s.Labels["pmd"] == "0").Select(s => s.Labels["result"]).Order());
        Assert.Contains(later, s => s.Name == "ovs_actors_pmd_drops_total" && s.Labels["reason"] == "drop action");

        // Every packet a PMD received is sent, dropped for a named reason or held, in every scrape
        // (each PMD's counters are read at one moment).
        foreach (var scrape in new[] { first, later })
        {
            var received = scrape.By("ovs_actors_pmd_packets_received_total", "pmd");
            var sent = scrape.By("ovs_actors_pmd_packets_sent_total", "pmd");
            var held = scrape.By("ovs_actors_pmd_packets_held", "pmd");
            var injected = scrape.By("ovs_actors_pmd_packets_injected_total", "pmd");
            Assert.All(received, r =>
            {
                double drops = scrape.Where(s => s.Name == "ovs_actors_pmd_drops_total" && s.Labels["pmd"] == r.Key).Sum(s => s.Value);
                Assert.Equal(r.Value + injected[r.Key], sent[r.Key] + drops + held[r.Key]);
            });
        }

        // Per port: both generator ports, with the traffic the summary reports at the end.
        var rx = later.By("ovs_actors_port_rx_packets_total", "port");
        Assert.Equal(["1", "2"], rx.Keys.Order());
        Assert.All(rx, r => Assert.InRange(r.Value, 1, SummaryPortRxPackets(summary, r.Key)));
        foreach (string name in new[] { "tx_packets_total", "rx_bytes_total", "tx_bytes_total", "rx_dropped_total", "tx_dropped_total" })
        {
            Assert.Equal(["1", "2"], later.By("ovs_actors_port_" + name, "port").Keys.Order());
        }

        // Per conntrack shard: one series for each shard the summary names, holding the connections.
        var connections = later.By("ovs_actors_conntrack_connections", "shard");
        int shards = int.Parse(ShardCount().Match(summary).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(Enumerable.Range(0, shards).Select(s => s.ToString(CultureInfo.InvariantCulture)), connections.Keys.Order());
        Assert.True(connections.Values.Sum() > 0, "connections tracked");
        Assert.All(later.Where(s => s.Name == "ovs_actors_metrics_gather_failures_total"), s => Assert.Equal(0, s.Value));

        // The endpoint ends with the run.
        Assert.Empty(TcpListeners.On(port));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task With_metrics_off_nothing_listens_on_the_metrics_port()
    {
        // The port stays bound, not listening, for the whole test: no other test can start
        // listening on it meanwhile, and a run that did serve metrics there would fail to start.
        using var reserved = TcpListeners.Reserve();
        int port = ((IPEndPoint)reserved.LocalEndPoint!).Port;
        string config = _scratch.Write("metrics-off.conf", $"datapath.metrics {{ enabled = off, port = {port} }}\n");
        string socket = Path.Combine(_scratch.Path, "ctl", "ovs-actors.ctl");
        var run = OwnThread.Run(() => Program.Run(["run", "--config", config, "--control", socket, "--duration", "60", "--pmds", "1", "--connections", "5"], new StringWriter(), new StringWriter()));
        try
        {
            // Up once the control channel answers: the datapath has started everything it starts.
            await Eventually.Until(() => run.IsCompleted || Call("pmd-stats-show", "--target", socket) == 0, "the control socket", Patience);

            Assert.False(run.IsCompleted, "run ended early");
            Assert.Empty(TcpListeners.On(port));
            using var client = new TcpClient();
            var refused = await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(IPAddress.Loopback, port));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }
        finally
        {
            Call("exit", "--target", socket);
            Assert.Equal(0, await run.WaitAsync(Patience));
        }
    }

    [Fact]
    public async Task Pmd_stats_clear_shows_as_a_counter_reset_in_the_next_scrape()
    {
        string socket = Path.Combine(_scratch.Path, "ctl", "ovs-actors.ctl");
        // Paced at 5,000 frames a second: 20,000 packets take 4 s to come, and the scrape right after
        // the clear would have to wait as long to see as many again (a loaded machine once took long
        // enough with unpaced traffic).
        string paced = _scratch.Write("paced.conf", "datapath.generator.rate-pps = 5000\n");
        var run = await ServingAsync(port => ["run", "--config", paced, "--control", socket, "--metrics-port", port.ToString(CultureInfo.InvariantCulture), "--duration", "60", "--pmds", "1", "--connections", "20"]);
        int port = run.Port;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        try
        {
            double before = (await ScrapeUntilAsync(http, run, s => Total(s) >= 20_000, "20,000 packets in the metrics")).By("ovs_actors_pmd_packets_received_total", "pmd")["0"];

            Assert.Equal(0, Call("pmd-stats-clear", "--target", socket));
            double after = PrometheusText.Parse(await http.GetStringAsync(Url(port))).By("ovs_actors_pmd_packets_received_total", "pmd")["0"];

            Assert.True(after < before, $"after clearing: {after}, before: {before}");
        }
        finally
        {
            Call("exit", "--target", socket);
            Assert.Equal(0, await run.Job.WaitAsync(Patience));
        }
    }

    [Fact]
    public void A_metrics_port_in_use_is_a_clear_error_before_the_datapath_starts()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var (output, error) = (new StringWriter(), new StringWriter());

        int exit = Program.Run(["run", "--control", "off", "--duration", "1", "--pmds", "1", "--connections", "5", "--metrics-port", port.ToString(CultureInfo.InvariantCulture)], output, error);

        Assert.Equal(1, exit);
        Assert.StartsWith($"run: cannot serve metrics on 127.0.0.1:{port}", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("throughput", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    public void A_metrics_port_out_of_range_is_refused(string port)
    {
        var (output, error) = (new StringWriter(), new StringWriter());

        int exit = Program.Run(["run", "--control", "off", "--metrics-port", port], output, error);

        Assert.Equal(2, exit);
        Assert.Contains("--metrics-port must be 1 to 65535", error.ToString(), StringComparison.Ordinal);
    }

    private static string Url(int port) => $"http://127.0.0.1:{port}/metrics";

    private static int Call(params string[] args) => Program.Run(args, new StringWriter(), new StringWriter());

    /// <summary>
    /// Starts a `run` (<paramref name="args"/> of its metrics port) on a port free when chosen and
    /// returns once the run serves it. Another test's socket may take the port before the run binds
    /// it (the run then ends at once with "cannot serve metrics"): it starts again on another. Only
    /// an HTTP answer on /metrics counts as the run's, not a listener on the port: the interloper
    /// may be listening itself, and it answers no HTTP.
    /// </summary>
    private static async Task<ServingRun> ServingAsync(Func<int, string[]> args)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        for (int attempt = 1; ; attempt++)
        {
            int port = TcpListeners.FreePort();
            var (output, error) = (new StringWriter(), new StringWriter());
            var run = new ServingRun(OwnThread.Run(() => Program.Run(args(port), output, error)), port, output, error);
            bool serving = await Eventually.Until(
                async () => !run.Job.IsCompleted && await AnswersHttpAsync(http, port),
                answered => answered || run.Job.IsCompleted,
                "the run serving its metrics port",
                Patience);
            if (serving)
            {
                return run;
            }

            Assert.True(attempt < 5 && error.ToString().Contains("cannot serve metrics", StringComparison.Ordinal), run.Ended());
        }
    }

    /// <summary>Whether GET /metrics on <paramref name="port"/> gets an HTTP success (the metrics endpoint, not just any listener).</summary>
    private static async Task<bool> AnswersHttpAsync(HttpClient http, int port)
    {
        try
        {
            using var response = await http.GetAsync(Url(port));
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false; // Nothing listening yet, a listener that speaks no HTTP, or a slow first answer: look again.
        }
    }

    /// <summary>Scrapes until <paramref name="holds"/> (the endpoint opens before the datapath is attached); fails if the run ends first.</summary>
    private static async Task<List<Sample>> ScrapeUntilAsync(HttpClient http, ServingRun run, Func<List<Sample>, bool> holds, string what)
    {
        async Task<List<Sample>?> Scrape()
        {
            Assert.False(run.Job.IsCompleted, $"run ended before the metrics showed {what}: {run.Ended()}");
            try
            {
                return PrometheusText.Parse(await http.GetStringAsync(Url(run.Port)));
            }
            catch (HttpRequestException)
            {
                return null; // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                return null; // A scrape slower than the client's timeout (a loaded machine starting many tests): ask again.
            }
        }

        return (await Eventually.Until(Scrape, samples => samples is not null && holds(samples), what, Patience))!;
    }

    private static Dictionary<string, double> PmdPackets(List<Sample> samples) => samples.By("ovs_actors_pmd_packets_received_total", "pmd");

    private static bool HasTraffic(List<Sample> samples) => PmdPackets(samples).Values.Any(v => v > 0);

    private static bool EveryPmdCounted(List<Sample> samples) => PmdPackets(samples) is { Count: > 0 } pmds && pmds.Values.All(v => v > 0);

    private static double Total(List<Sample> samples) => PmdPackets(samples).Values.Sum();

    /// <summary>pmd -> packets of the summary's PMD table (between its title and the drops table).</summary>
    private static Dictionary<string, double> SummaryPmdPackets(string summary)
    {
        string pmdTable = summary[summary.IndexOf("PMDs (pmd-stats-show)", StringComparison.Ordinal)..summary.IndexOf("drops by reason", StringComparison.Ordinal)];
        return Rows(pmdTable).ToDictionary(cells => cells[0], cells => double.Parse(cells[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
    }

    private static double SummaryPortRxPackets(string summary, string port)
    {
        string portTable = summary[summary.IndexOf("ports (dump-ports)", StringComparison.Ordinal)..];
        var row = Assert.Single(Rows(portTable), cells => cells[0] == port);
        return double.Parse(row[1], CultureInfo.InvariantCulture);
    }

    private static IEnumerable<string[]> Rows(string table) =>
        table.ReplaceLineEndings("\n").Split('\n')
            .Select(line => line.Split('│', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Where(cells => cells.Length > 1 && cells[0].All(char.IsAsciiDigit));

    [GeneratedRegex(@"(\d+) conntrack shard\(s\)")]
    private static partial Regex ShardCount();

    /// <summary>A `run` in this process serving metrics on <paramref name="Port"/>; its writers are read only once it has ended.</summary>
    private sealed record ServingRun(Task<int> Job, int Port, StringWriter Output, StringWriter Error)
    {
        public string Ended() => Job.IsCompleted ? $"exit {Job.Result}, stderr: {Error}" : "still running";
    }
}
