using System.Diagnostics;
using System.Text.RegularExpressions;
using Actors.Bridge;
using Actors.Conntrack;
using Actors.Pmd;
using Akka.Actor;
using Datapath.Conntrack;

namespace Host.Control;

/// <summary>
/// The datapath's counters at one moment, made monotonic: a counter that went down (pmd-stats-clear,
/// a restarted PMD or shard) is taken to have restarted from zero, so totals only grow, as Open
/// vSwitch's coverage counters do.
/// </summary>
/// <param name="At">Stopwatch ticks.</param>
/// <param name="Events">Coverage events by name (<see cref="CoverageNames"/>).</param>
/// <param name="PmdBusyNs">Processing time per PMD number.</param>
/// <param name="RxqNs">Processing time per (PMD, port, queue).</param>
internal sealed record DatapathSample(
    long At,
    IReadOnlyDictionary<string, long> Events,
    IReadOnlyDictionary<int, long> PmdBusyNs,
    IReadOnlyDictionary<(int Pmd, uint Port, int Queue), long> RxqNs);

/// <summary>
/// Reads the datapath's counters every 5 seconds (COVERAGE_RUN_INTERVAL in Open vSwitch's
/// lib/coverage.c) and keeps an hour of readings, for coverage/show's rates over the last 5 s, minute
/// and hour and for pmd-rxq-show's per-queue load over the last minute. Each reading asks the bridge
/// (PMDs, ports) and the conntrack shards, off the packet path, as the metrics scrape does.
/// </summary>
internal sealed partial class DatapathSampler : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private const int HourOfIntervals = 720;

    private readonly ControlTargets _targets;
    private readonly Lock _lock = new();
    private readonly LinkedList<DatapathSample> _samples = new();
    private readonly Dictionary<(string Source, string Name), (long Last, long Total)> _events = [];
    private readonly Dictionary<int, (long Last, long Total)> _busy = [];
    private readonly CancellationTokenSource _stop = new();

    // One reading at a time: readings recorded out of order would look like counter resets.
    private readonly SemaphoreSlim _reading = new(1, 1);
    private Task _loop = Task.CompletedTask;

    public DatapathSampler(ControlTargets targets)
    {
        _targets = targets;
    }

    /// <summary>Takes the first reading now and one every <see cref="Interval"/> after.</summary>
    public void Start() => _loop = Task.Run(LoopAsync);

    /// <summary>A reading taken now; <paramref name="keep"/> adds it to the history (the timer's readings).</summary>
    public async Task<DatapathSample> ReadAsync(CancellationToken cancellation, bool keep = false)
    {
        await _reading.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            return await ReadOnceAsync(keep, cancellation).ConfigureAwait(false);
        }
        finally
        {
            _reading.Release();
        }
    }

    private async Task<DatapathSample> ReadOnceAsync(bool keep, CancellationToken cancellation)
    {
        var pmds = await _targets.Bridge.Ask<PmdStatisticsGathered>(GetPmdStatistics.Instance, _targets.Timeout, cancellation).ConfigureAwait(false);
        var ports = await _targets.Bridge.Ask<PortsShown>(ShowPorts.Instance, _targets.Timeout, cancellation).ConfigureAwait(false);
        var shards = await Task.WhenAll(Enumerable.Range(0, _targets.ConntrackShards).Select(shard =>
            _targets.Conntrack.Ask<ShardStatistics>(new ConntrackEnvelope(shard, GetShardStatistics.Instance), _targets.Timeout, cancellation))).ConfigureAwait(false);
        return Record(pmds.Pmds, ports.Ports, shards, keep);
    }

    /// <summary>The readings kept, oldest first, and at most an hour old.</summary>
    public IReadOnlyList<DatapathSample> History()
    {
        lock (_lock)
        {
            return [.. _samples];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        _reading.Dispose();
    }

    /// <summary>Open vSwitch's coverage name for one of our counters: its own where it has one (lib/dpif-netdev.c, lib/odp-execute.c, lib/conntrack.c, lib/netdev.c), else ours in its style.</summary>
    public static string CoverageName(string counter) => counter switch
    {
        "upcall failed" => "datapath_drop_upcall_error",
        "drop action" => "drop_action_of_pipeline",
        "recirculation too deep" => "datapath_drop_recirc_error",
        "conntrack limit" => "conntrack_full",
        "tx: no such port" => "datapath_drop_invalid_port",
        _ => "datapath_drop_" + Snake(counter),
    };

    internal DatapathSample Record(IReadOnlyList<PmdStatistics> pmds, IReadOnlyList<PortDescription> ports, IReadOnlyList<ShardStatistics> shards, bool keep)
    {
        // Kept per source (PMD, port, shard) and summed by name after: one restarted PMD is a reset
        // of its own counters, not of everyone's.
        var raw = new Dictionary<(string Source, string Name), long>();
        string source = string.Empty;
        void Add(string name, long value) => raw[(source, name)] = raw.GetValueOrDefault((source, name)) + value;
        foreach (var pmd in pmds)
        {
            source = "pmd" + pmd.Pmd.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var p = pmd.Pipeline;
            Add("dpif_netdev_packets_received", p.PacketsReceived);
            Add("dpif_netdev_recirculations", p.Recirculations);
            Add("dpif_netdev_emc_hits", p.EmcHits);
            Add("dpif_netdev_megaflow_hits", p.MegaflowHits);
            Add("dpif_netdev_upcall_ok", p.UpcallsOk);
            Add("bypass_hits", p.BypassHits);
            Add("bypass_installs", p.BypassInstalls);
            Add("bypass_revocations", p.BypassRevocations);
            Add("bypass_guard_fallbacks", p.BypassGuardFallbacks);
            Add("dpif_netdev_revalidations", pmd.Revalidations);
            Add("dpif_netdev_megaflows_removed", pmd.MegaflowsRemoved);
            foreach (var (reason, count) in pmd.Drops)
            {
                Add(CoverageName(reason), count);
            }

            // Received = sent + the drops above + held: the sent side of that sum, and the copies.
            Add("dpif_netdev_packets_sent", pmd.PacketsSent);
            Add("dpif_netdev_output_copies", pmd.Outputs);
            Add(CoverageName("tx: no such port"), pmd.TransmitDropsNoPort);
            Add(CoverageName("tx: pool empty"), pmd.TransmitDropsPoolEmpty);
        }

        foreach (var port in ports)
        {
            source = "port" + port.Number.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (port.Counters is { } c)
            {
                Add("netdev_received", c.RxPackets);
                Add("netdev_sent", c.TxPackets);
                Add("netdev_rx_dropped", c.RxDropped);
                Add("netdev_tx_dropped", c.TxDropped);
            }
        }

        foreach (var shard in shards)
        {
            source = "shard" + shard.Shard.ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var counter in Enum.GetValues<ConntrackCounter>())
            {
                if (counter != ConntrackCounter.None && (int)counter < shard.Counters.Length)
                {
                    Add(ConntrackName(counter), shard[counter]);
                }
            }
        }

        long now = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            foreach (var (key, value) in raw)
            {
                Accumulate(_events, key, value);
            }

            // Every source ever seen: a port deleted keeps what it counted, as a total should.
            var events = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var ((_, name), (_, total)) in _events)
            {
                events[name] = events.GetValueOrDefault(name) + total;
            }

            var busy = pmds.ToDictionary(p => p.Pmd, p => Accumulate(_busy, p.Pmd, p.Pipeline.ProcessingNs));
            var rxq = new Dictionary<(int, uint, int), long>();
            foreach (var pmd in pmds)
            {
                foreach (var ((port, queue), ns) in pmd.RxqProcessingNs ?? new Dictionary<(uint, int), long>())
                {
                    rxq[(pmd.Pmd, port, queue)] = ns;
                }
            }

            var sample = new DatapathSample(now, events, busy, rxq);
            if (keep)
            {
                _samples.AddLast(sample);
                while (_samples.Count > HourOfIntervals + 1)
                {
                    _samples.RemoveFirst();
                }
            }

            return sample;
        }
    }

    private static long Accumulate<TKey>(Dictionary<TKey, (long Last, long Total)> totals, TKey key, long value)
        where TKey : notnull
    {
        var (last, total) = totals.GetValueOrDefault(key);
        total += value >= last ? value - last : value;
        totals[key] = (value, total);
        return total;
    }

    private static string ConntrackName(ConntrackCounter counter) => counter switch
    {
        ConntrackCounter.GlobalLimitDrop => "conntrack_full",
        ConntrackCounter.ZoneLimitDrop => "conntrack_zone_full",
        ConntrackCounter.L3Checksum => "conntrack_l3csum_err",
        ConntrackCounter.L4Checksum => "conntrack_l4csum_err",
        _ => "conntrack_" + Snake(counter.ToString()),
    };

    /// <summary>"tx: pool empty" and "TcpOutOfWindow" as tx_pool_empty and tcp_out_of_window.</summary>
    private static string Snake(string name) =>
        NonWord().Replace(Hump().Replace(name, "$1_$2"), "_").Trim('_').ToLowerInvariant();

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await ReadAsync(_stop.Token, keep: true).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AskTimeoutException or OperationCanceledException)
            {
                // A reading the actors did not answer in time is skipped; the next one comes.
            }
        }
        while (await NextTickAsync(timer).ConfigureAwait(false));
    }

    private async Task<bool> NextTickAsync(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex Hump();

    [GeneratedRegex("[^A-Za-z0-9]+")]
    private static partial Regex NonWord();
}
