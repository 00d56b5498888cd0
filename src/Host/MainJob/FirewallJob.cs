using System.Diagnostics;
using Actors.Bridge;
using Actors.Cluster;
using Actors.Node;
using Actors.Pmd;
using Actors.Ports;
using Akka.Actor;
using Akka.Configuration;
using Datapath.OpenFlow;
using Host.Configuration;
using Host.Control;
using Host.Metrics;

namespace Host.MainJob;

/// <summary>
/// The main job: the bridge's flows (the firewall of DESIGN.md by default) between two generator
/// ports (or pcap ports, or two Linux interfaces as system ports), on the configured PMDs (all
/// cores by default), for the configured duration or until <c>stop</c> is cancelled (Ctrl+C; a
/// capture that does not loop may end sooner: draining waits for its last frame); a progress
/// report once a second while it runs, then the summary. Everything it asks the actors happens
/// off the packet path. With a control socket (datapath.control), commands reach the running actors
/// through it, and `exit` ends the job early with the same drain and summary. With metrics
/// (datapath.metrics), each scrape of the Prometheus endpoint asks the actors the same way.
/// </summary>
internal static class FirewallJob
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <param name="untilStopped">Run until <paramref name="stop"/> is cancelled, whatever the configured duration.</param>
    /// <exception cref="PortCommandException">A system port could not be opened (no such interface, no CAP_NET_RAW...).</exception>
    public static async Task<JobResult> RunAsync(
        Config config,
        DatapathSettings settings,
        IReadOnlyList<FlowEntry> flows,
        Action<JobProgress>? progress,
        bool untilStopped = false,
        CancellationToken stop = default,
        TextWriter? log = null)
    {
        // Bound first, so that a second datapath on the same socket fails before it starts anything.
        await using var control = ControlChannel.Bind(settings.Control, log ?? TextWriter.Null);
        await using var metrics = settings.Metrics.Enabled ? MetricsEndpoint.Listen(settings.Metrics.Port) : null;
        var exit = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var cluster = await DatapathCluster.StartAsync(config, settings.Conntrack).ConfigureAwait(false);
        var node = DatapathNode.Start(cluster, settings.Pmds, settings.Pmd, settings.Bridge);
        await node.UseFlowsAsync(flows, Patience).ConfigureAwait(false);
        var ports = await StartPortsAsync(cluster, node, settings).ConfigureAwait(false);
        control?.Serve(new ControlTargets(node.Bridge, cluster.Conntrack, settings.Conntrack.Shards, settings.QueuesPerPort, settings.Control.RequestTimeout, () => exit.TrySetResult(), cluster.System));
        await using var openFlow = settings.OpenFlow.ManagementPath(settings.Control) is null && settings.OpenFlow.ListenPort == 0 && settings.OpenFlow.Controllers.Count == 0
            ? null
            : OpenFlow.OpenFlowServer.Start(cluster.System, node.Bridge, settings.OpenFlow, settings.Control);
        if (openFlow is not null && (settings.OpenFlow.ListenPort != 0 || settings.OpenFlow.Controllers.Count > 0))
        {
            // Only when asked for beyond the default br0.mgmt, which the README names.
            (log ?? TextWriter.Null).WriteLine($"OpenFlow: {string.Join(", ", new[] { openFlow.ManagementTarget, openFlow.ListenPort != 0 ? $"tcp:127.0.0.1:{openFlow.ListenPort}" : null }.Concat(settings.OpenFlow.Controllers.Select(c => "controller " + c)).Where(x => x is not null))}");
        }

        metrics?.Serve(new MetricsGatherer(node.Bridge, cluster.Conntrack, settings.Conntrack.Shards, settings.Metrics.Timeout, cluster.IsClustered ? cluster.System : null));

        // Traffic starts once conntrack answers (a node alone is ready already; in a larger cluster
        // the shards may still be placed), so that no connection waits for a shard to start.
        await cluster.WhenConntrackReadyAsync(Patience).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        ports.Start();
        var previous = new JobProgress(TimeSpan.Zero, 0, 0, 0, 0, 0, 0, 0, 0);
        var duration = settings.Duration;
        bool Running() => !exit.Task.IsCompleted && !stop.IsCancellationRequested && (untilStopped || clock.Elapsed < duration);
        while (Running())
        {
            var left = duration - clock.Elapsed;
            var wait = untilStopped || left > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : left < TimeSpan.Zero ? TimeSpan.Zero : left;

            // A cancelled delay (Ctrl+C) ends the wait like the control channel's exit does.
            await Task.WhenAny(Task.Delay(wait, stop), exit.Task).ConfigureAwait(false);
            if (progress is not null && Running())
            {
                var pmds = await node.Bridge.Ask<PmdStatisticsGathered>(GetPmdStatistics.Instance, Patience).ConfigureAwait(false);
                var now = JobProgress.From(clock.Elapsed, pmds.Pmds, await ports.StatisticsAsync().ConfigureAwait(false));
                progress(now.Since(previous));
                previous = now;
            }
        }

        var drained = await ports.DrainAsync().ConfigureAwait(false);
        var elapsed = clock.Elapsed;
        var finalPorts = drained is PortDrained d ? d.Statistics : await ports.StatisticsAsync().ConfigureAwait(false);
        var finalPmds = await node.Bridge.Ask<PmdStatisticsGathered>(GetPmdStatistics.Instance, Patience).ConfigureAwait(false);
        var dump = await node.Bridge.Ask<FlowsDumped>(new DumpFlows(), Patience).ConfigureAwait(false);
        if (control is not null)
        {
            await control.DisposeAsync().ConfigureAwait(false);
        }

        if (metrics is not null)
        {
            await metrics.DisposeAsync().ConfigureAwait(false);
        }

        if (openFlow is not null && (settings.OpenFlow.ListenPort != 0 || settings.OpenFlow.Controllers.Count > 0))
        {
            // Only when asked for beyond the default br0.mgmt, which the README names.
            await openFlow.DisposeAsync().ConfigureAwait(false);
        }

        await node.StopAsync().ConfigureAwait(false);
        return new JobResult(elapsed, settings, finalPmds.Pmds, finalPorts, dump.Text, (drained as PortFailed)?.Reason);
    }

    /// <summary>The job's ports: a generator or pcap port actor given to the bridge as links, or two system ports the bridge creates by name.</summary>
    private static async Task<JobPorts> StartPortsAsync(DatapathCluster cluster, DatapathNode node, DatapathSettings settings)
    {
        if (settings.SystemPorts is { } system)
        {
            foreach (var (port, name) in system.Ports)
            {
                var answer = await node.Bridge.Ask<object>(new CreatePort(name, SystemPortActor.TypeName, new Dictionary<string, string>(), port), Patience).ConfigureAwait(false);
                if (answer is PortCommandFailed failed)
                {
                    await node.StopAsync().ConfigureAwait(false);
                    throw new PortCommandException(failed.Error);
                }
            }

            return new BridgePorts(node.Bridge);
        }

        if (settings.Pcap is { } pcap)
        {
            var handle = PcapPortActor.Start(cluster.System, pcap, node.Pmds, node.Batches, "pcap");
            await node.UsePortsAsync(handle.Links, Patience).ConfigureAwait(false);
            return new ActorPorts([handle.Actor]);
        }

        // A generator per PMD, each sending the connections its PMD receives (on the PMD's thread when
        // it has one): one generator for all PMDs was the job's bottleneck, and every frame crossed cores.
        var split = GeneratorPortActor.StartPerPmd(cluster.System, settings.Generator, node.Pmds, node.PmdDispatchers, node.BatchesOf, "generator");
        await node.UsePortsAsync(split.Links, Patience).ConfigureAwait(false);
        return new ActorPorts(split.Parts.Select(p => p.Actor).ToArray());
    }

    private abstract class JobPorts
    {
        public abstract void Start();

        public abstract Task<PortActorStatistics> StatisticsAsync();

        /// <summary>Stops the traffic and waits for what is in flight: <see cref="PortDrained"/> or <see cref="PortFailed"/>; null when the ports have nothing to drain.</summary>
        public abstract Task<object?> DrainAsync();
    }

    /// <summary>Port actors serving both ports: a pcap port, or a generator's parts (one per PMD), whose counters add up.</summary>
    private sealed class ActorPorts(IReadOnlyList<IActorRef> actors) : JobPorts
    {
        public override void Start()
        {
            foreach (var actor in actors)
            {
                actor.Tell(StartTraffic.Instance);
            }
        }

        public override async Task<PortActorStatistics> StatisticsAsync() =>
            Sum(await Task.WhenAll(actors.Select(a => a.Ask<PortActorStatistics>(GetPortStatistics.Instance, Patience))).ConfigureAwait(false));

        /// <summary>Every part drained: their statistics added up; otherwise the first other answer (a failure).</summary>
        public override async Task<object?> DrainAsync()
        {
            var answers = await Task.WhenAll(actors.Select(a => a.Ask<object>(DrainAndReport.Instance, Patience))).ConfigureAwait(false);
            if (answers.FirstOrDefault(a => a is not PortDrained) is { } notDrained)
            {
                return notDrained;
            }

            return new PortDrained(Sum(answers.Cast<PortDrained>().Select(d => d.Statistics).ToArray()));
        }

        // One actor's statistics as they are: a pcap port's progress has no sum over parts.
        private static PortActorStatistics Sum(IReadOnlyList<PortActorStatistics> parts) => parts.Count == 1
            ? parts[0]
            : new PortActorStatistics(PortStatistics.SumByPort(parts.SelectMany(p => p.Ports)), TrafficSummary.Sum(parts.Select(p => p.Traffic)), null);
    }

    /// <summary>
    /// Ports the bridge created (system ports): they receive from their creation, and live traffic
    /// has no end to wait for, so the final counters are those of ovs-ofctl show at the end.
    /// </summary>
    private sealed class BridgePorts(IActorRef bridge) : JobPorts
    {
        public override void Start()
        {
        }

        public override async Task<PortActorStatistics> StatisticsAsync()
        {
            var shown = await bridge.Ask<PortsShown>(ShowPorts.Instance, Patience).ConfigureAwait(false);
            return new PortActorStatistics(shown.Ports.Select(p => p.Counters ?? new PortStatistics(p.Number, 0, 0, 0, 0, 0, 0)).ToArray(), null, null);
        }

        public override Task<object?> DrainAsync() => Task.FromResult<object?>(null);
    }
}

/// <summary>What the main job measured.</summary>
internal sealed record JobResult(
    TimeSpan Elapsed,
    DatapathSettings Settings,
    IReadOnlyList<PmdStatistics> Pmds,
    PortActorStatistics Ports,
    string DumpFlows,
    string? PortFailure)
{
    /// <summary>Where every packet went: received = sent + dropped (by reason) + held.</summary>
    public PacketLedger Ledger => PacketLedger.From(Pmds, Ports.Ports);
}

/// <summary>Counters for the progress line: totals at one moment, or the change over the last interval.</summary>
/// <param name="Passes">Pipeline passes: received packets plus recirculations (what the caches are consulted for).</param>
/// <param name="BypassHits">Passes that took a bypass flow: with EMC and megaflow hits and upcalls, every pass is one of the four.</param>
/// <param name="Drops">Every drop by every reason (receive side, pipeline, transmit side).</param>
internal sealed record JobProgress(TimeSpan Elapsed, long Packets, long Passes, long EmcHits, long MegaflowHits, long BypassHits, long Upcalls, long Drops, double IntervalSeconds)
{
    public static JobProgress From(TimeSpan elapsed, IReadOnlyList<PmdStatistics> pmds, PortActorStatistics ports) => new(
        elapsed,
        pmds.Sum(p => p.Pipeline.PacketsReceived),
        pmds.Sum(p => p.Pipeline.PacketsReceived + p.Pipeline.Recirculations),
        pmds.Sum(p => p.Pipeline.EmcHits),
        pmds.Sum(p => p.Pipeline.MegaflowHits),
        pmds.Sum(p => p.Pipeline.BypassHits),
        pmds.Sum(p => p.Pipeline.UpcallsOk + p.Pipeline.UpcallsFailed),
        PacketLedger.From(pmds, ports.Ports).Dropped,
        elapsed.TotalSeconds);

    public JobProgress Since(JobProgress earlier) => new(
        Elapsed,
        Packets - earlier.Packets,
        Passes - earlier.Passes,
        EmcHits - earlier.EmcHits,
        MegaflowHits - earlier.MegaflowHits,
        BypassHits - earlier.BypassHits,
        Upcalls - earlier.Upcalls,
        Drops - earlier.Drops,
        (Elapsed - earlier.Elapsed).TotalSeconds);
}
