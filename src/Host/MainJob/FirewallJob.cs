using System.Diagnostics;
using Actors.Bridge;
using Actors.Cluster;
using Actors.Configuration;
using Actors.Node;
using Actors.Pmd;
using Actors.Ports;
using Akka.Actor;
using Akka.Configuration;
using Datapath.OpenFlow;
using Host.Control;

namespace Host.MainJob;

/// <summary>
/// The main job: the bridge's flows (the firewall of DESIGN.md by default) between two generator
/// ports (or pcap ports), on the configured PMDs (all cores by default), for the configured
/// duration (a capture that does not loop may end sooner: draining waits for its last frame); a
/// progress report once a second while it runs, then the summary. Everything it asks the actors happens off
/// the packet path. With a control socket (datapath.control), commands reach the running actors
/// through it, and `exit` ends the job early with the same drain and summary.
/// </summary>
internal static class FirewallJob
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static async Task<JobResult> RunAsync(Config config, string source, DatapathSettings settings, IReadOnlyList<FlowEntry> flows, Action<JobProgress>? progress)
    {
        // Bound first, so that a second datapath on the same socket fails before it starts anything.
        var control = settings.Control;
        using var listener = control.Enabled ? ControlSocket.Listen(control.EffectiveSocketPath, backlog: 128) : null;
        var exit = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var cluster = await DatapathCluster.StartAsync(config, source).ConfigureAwait(false);
        var node = DatapathNode.Start(cluster, settings.Pmds, settings.Pmd);
        await node.UseFlowsAsync(flows, Patience).ConfigureAwait(false);
        var generator = settings.Pcap is { } pcap
            ? PcapPortActor.Start(cluster.System, pcap.PortSettings(settings.QueuesPerPort, settings.PortWindow), node.Pmds, node.Batches, "pcap")
            : GeneratorPortActor.Start(cluster.System, settings.Generator.PortSettings(settings.QueuesPerPort, settings.PortWindow), node.Pmds, node.Batches, "generator");
        await node.UsePortsAsync(generator.Links, Patience).ConfigureAwait(false);
        var targets = new ControlTargets(node.Bridge, cluster.Conntrack, cluster.Settings.Conntrack.Shards, settings.QueuesPerPort, control.RequestTimeout, () => exit.TrySetResult());
        await using var server = listener is null
            ? null
            : ControlServer.Start(listener, control.EffectiveSocketPath, new DatapathControl(targets), control.MaxConnections, control.MaxRequestBytes);

        var clock = Stopwatch.StartNew();
        generator.Actor.Tell(StartTraffic.Instance);
        var previous = new JobProgress(TimeSpan.Zero, 0, 0, 0, 0, 0, 0, 0);
        while (clock.Elapsed < settings.Generator.Duration && !exit.Task.IsCompleted)
        {
            var wait = settings.Generator.Duration - clock.Elapsed;
            await Task.WhenAny(Task.Delay(wait < TimeSpan.FromSeconds(1) ? wait : TimeSpan.FromSeconds(1)), exit.Task).ConfigureAwait(false);
            if (progress is not null && clock.Elapsed < settings.Generator.Duration && !exit.Task.IsCompleted)
            {
                var pmds = await node.Bridge.Ask<PmdStatisticsGathered>(GetPmdStatistics.Instance, Patience).ConfigureAwait(false);
                var ports = await generator.Actor.Ask<PortActorStatistics>(GetPortStatistics.Instance, Patience).ConfigureAwait(false);
                var now = JobProgress.From(clock.Elapsed, pmds.Pmds, ports);
                progress(now.Since(previous));
                previous = now;
            }
        }

        var drained = await generator.Actor.Ask<object>(DrainAndReport.Instance, Patience).ConfigureAwait(false);
        var elapsed = clock.Elapsed;
        var finalPorts = drained is PortDrained d ? d.Statistics : await generator.Actor.Ask<PortActorStatistics>(GetPortStatistics.Instance, Patience).ConfigureAwait(false);
        var finalPmds = await node.Bridge.Ask<PmdStatisticsGathered>(GetPmdStatistics.Instance, Patience).ConfigureAwait(false);
        var dump = await node.Bridge.Ask<FlowsDumped>(new DumpFlows(), Patience).ConfigureAwait(false);
        if (server is not null)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }

        await node.StopAsync().ConfigureAwait(false);
        return new JobResult(elapsed, settings, finalPmds.Pmds, finalPorts, dump.Text, (drained as PortFailed)?.Reason);
    }
}

/// <summary>What the main job measured.</summary>
internal sealed record JobResult(
    TimeSpan Elapsed,
    DatapathSettings Settings,
    IReadOnlyList<PmdStatistics> Pmds,
    PortActorStatistics Ports,
    string DumpFlows,
    string? PortFailure);

/// <summary>Counters for the progress line: totals at one moment, or the change over the last interval.</summary>
/// <param name="Passes">Pipeline passes: received packets plus recirculations (what the caches are consulted for).</param>
internal sealed record JobProgress(TimeSpan Elapsed, long Packets, long Passes, long EmcHits, long MegaflowHits, long Upcalls, long Drops, double IntervalSeconds)
{
    public static JobProgress From(TimeSpan elapsed, IReadOnlyList<PmdStatistics> pmds, PortActorStatistics ports) => new(
        elapsed,
        pmds.Sum(p => p.Pipeline.PacketsReceived),
        pmds.Sum(p => p.Pipeline.PacketsReceived + p.Pipeline.Recirculations),
        pmds.Sum(p => p.Pipeline.EmcHits),
        pmds.Sum(p => p.Pipeline.MegaflowHits),
        pmds.Sum(p => p.Pipeline.UpcallsOk + p.Pipeline.UpcallsFailed),
        ports.Ports.Sum(p => p.RxDropped),
        elapsed.TotalSeconds);

    public JobProgress Since(JobProgress earlier) => new(
        Elapsed,
        Packets - earlier.Packets,
        Passes - earlier.Passes,
        EmcHits - earlier.EmcHits,
        MegaflowHits - earlier.MegaflowHits,
        Upcalls - earlier.Upcalls,
        Drops - earlier.Drops,
        (Elapsed - earlier.Elapsed).TotalSeconds);
}
