using System.Diagnostics;
using Actors.Bridge;
using Actors.Cluster;
using Actors.Conntrack;
using Actors.Node;
using Actors.Pmd;
using Actors.Ports;
using Akka.Actor;
using Akka.Configuration;
using Datapath.Bypass;
using Datapath.Conntrack;
using Datapath.OpenFlow;
using Host.Configuration;

namespace Bench.Firewall;

/// <summary>
/// One bench run on a fresh actor system: the flows on <see cref="DatapathSettings.Pmds"/> PMDs
/// between the two ports of a <see cref="StreamPortActor"/>; every connection established (the
/// handshakes, checked), then steady traffic both ways for the warm-up, then the timed window,
/// measured as the change of the PMDs', ports' and conntrack shards' counters over it. Everything
/// it asks the actors happens off the packet path.
/// </summary>
internal static class BenchRunner
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static async Task<BenchResult> RunAsync(Config config, DatapathSettings settings, IReadOnlyList<FlowEntry> flows, BenchOptions options)
    {
        await using var cluster = await DatapathCluster.StartAsync(config, settings.Conntrack, "bench").ConfigureAwait(false);
        var node = DatapathNode.Start(cluster, settings.Pmds, settings.Pmd, settings.Bridge);
        try
        {
            await node.UseFlowsAsync(flows, Patience).ConfigureAwait(false);
            var portSettings = new StreamPortSettings
            {
                Protocol = options.Protocol,
                Connections = options.Connections,
                SnatAddress = options.Nat is null ? null : NatFirewall.SnatAddress,
                QueuesPerPort = settings.QueuesPerPort,
                Window = settings.Bridge.PortWindow,
            };
            // With PMD threads each PMD's queues are fed by a port actor on its thread (as a PMD polls
            // its own queues); otherwise one actor feeds them all from the shared pool.
            IReadOnlyList<IActorRef> ports;
            if (node.PmdDispatchers is { } dispatchers)
            {
                var split = StreamPortActor.StartPerPmd(cluster.System, portSettings, node.Pmds, dispatchers, node.BatchesOf, "bench-ports");
                await node.UsePortsAsync(split.Links, Patience).ConfigureAwait(false);
                ports = split.Parts.Select(p => p.Actor).ToList();
            }
            else
            {
                var one = StreamPortActor.Start(cluster.System, portSettings, node.Pmds, node.Batches, "bench-ports");
                await node.UsePortsAsync(one.Links, Patience).ConfigureAwait(false);
                ports = [one.Actor];
            }

            // A handshake step takes about a microsecond per connection; allow far more.
            var establishing = Patience + TimeSpan.FromMilliseconds(options.Connections / 50.0);
            foreach (var established in await Task.WhenAll(ports.Select(p => p.Ask<object>(EstablishStreams.Instance, establishing))).ConfigureAwait(false))
            {
                if (established is PortFailed failed)
                {
                    throw new BenchFailedException("the connections were not established: " + failed.Reason);
                }
            }

            foreach (var port in ports)
            {
                port.Tell(StartTraffic.Instance);
            }

            await Task.Delay(options.Warmup).ConfigureAwait(false);
            var before = await SnapshotAsync(cluster, node, ports).ConfigureAwait(false);
            await Task.Delay(options.Duration).ConfigureAwait(false);
            var after = await SnapshotAsync(cluster, node, ports).ConfigureAwait(false);
            await Task.WhenAll(ports.Select(p => p.Ask<PortDrained>(DrainAndReport.Instance, Patience))).ConfigureAwait(false);
            return Result(settings, options, before, after);
        }
        finally
        {
            await node.StopAsync().ConfigureAwait(false);
        }
    }

    private static BenchResult Result(DatapathSettings settings, BenchOptions options, Snapshot before, Snapshot after)
    {
        double seconds = (after.Timestamp - before.Timestamp) / (double)Stopwatch.Frequency;
        long rx = after.PacketsReceived - before.PacketsReceived;
        long tx = after.Transmitted - before.Transmitted;
        long passes = rx + after.Recirculations - before.Recirculations;
        long emcHits = after.EmcHits - before.EmcHits;
        double rxMpps = rx / seconds / 1e6;
        return new BenchResult(
            Mpps: rxMpps,
            RxMpps: rxMpps,
            TxMpps: tx / seconds / 1e6,
            Pmds: settings.Pmds,
            Connections: options.Connections,
            Protocol: BenchOptions.NameOf(options.Protocol),
            Bypass: settings.Pmd.Core.Bypass.Name(),
            EmcHitRate: passes == 0 ? 0 : (double)emcHits / passes,
            BypassHits: after.BypassHits - before.BypassHits,
            BypassInstalls: after.BypassInstalls - before.BypassInstalls,
            BypassGuardFallbacks: after.BypassGuardFallbacks - before.BypassGuardFallbacks,
            Recirculations: after.Recirculations - before.Recirculations,
            Upcalls: after.Upcalls - before.Upcalls,
            Drops: after.Drops - before.Drops,
            CtInvalid: after.CtInvalid - before.CtInvalid,
            CtCreated: after.CtCreated - before.CtCreated,
            RxPackets: rx,
            TxPackets: tx,
            PmdNsPerPacket: rx == 0 ? 0 : (after.ProcessingNs - before.ProcessingNs) / (double)rx,
            PmdBusy: (after.ProcessingNs - before.ProcessingNs) / (seconds * 1e9 * settings.Pmds),
            Seconds: seconds,
            WarmupSeconds: options.Warmup.TotalSeconds)
        {
            CtMessagesPerPacket = PerPacket(after.CtMessages - before.CtMessages, rx),
            CtInPlacePerPacket = PerPacket(after.CtInPlace - before.CtInPlace, rx),
            HostedShards = after.HostedShards,
            Nat = options.Nat,
            CpuSecondsPerMillionPackets = rx == 0 ? 0 : (after.CpuTime - before.CpuTime).TotalSeconds / (rx / 1e6),
            AllocatedBytesPerPacket = PerPacket(after.AllocatedBytes - before.AllocatedBytes, rx),
            GcPerMillionPackets = rx == 0 ? 0 : (after.Collections - before.Collections) / (rx / 1e6),
            PerPmd = PerPmd(before, after, seconds),
        };
    }

    /// <summary>Each PMD's own rate and time per packet over the window, by PMD number (what pmd-stats-show gives per PMD): an uneven share or one slow core shows here.</summary>
    private static IReadOnlyList<PmdRate> PerPmd(Snapshot before, Snapshot after, double seconds)
    {
        var rates = new List<PmdRate>();
        foreach (var (pmd, end) in after.PerPmd.OrderBy(p => p.Key))
        {
            var start = before.PerPmd.GetValueOrDefault(pmd);
            long rx = end.Packets - start.Packets;
            rates.Add(new PmdRate(pmd, rx / seconds / 1e6, rx == 0 ? 0 : (end.ProcessingNs - start.ProcessingNs) / (double)rx));
        }

        return rates;
    }

    private static double PerPacket(long count, long packets) => packets == 0 ? 0 : count / (double)packets;

    /// <summary>The process's CPU time, bytes allocated and collections (every generation) so far: the whole actor path, not only the PMDs.</summary>
    private static (TimeSpan Cpu, long Allocated, long Collections) ProcessCounters()
    {
        using var process = Process.GetCurrentProcess();
        return (process.TotalProcessorTime, GC.GetTotalAllocatedBytes(precise: false), GC.CollectionCount(0) + GC.CollectionCount(1) + GC.CollectionCount(2));
    }

    private static async Task<Snapshot> SnapshotAsync(DatapathCluster cluster, DatapathNode node, IReadOnlyList<IActorRef> ports)
    {
        long timestamp = Stopwatch.GetTimestamp();
        var process = ProcessCounters();
        var pmds = (await node.Bridge.Ask<PmdStatisticsGathered>(GetPmdStatistics.Instance, Patience).ConfigureAwait(false)).Pmds;
        if (pmds.Count != node.Pmds.Count)
        {
            throw new BenchFailedException($"only {pmds.Count} of {node.Pmds.Count} PMDs answered for their statistics");
        }

        var parts = await Task.WhenAll(ports.Select(p => p.Ask<PortActorStatistics>(GetPortStatistics.Instance, Patience))).ConfigureAwait(false);
        var portStats = PortStatistics.SumByPort(parts.SelectMany(p => p.Ports));
        long invalid = 0;
        long created = 0;
        for (int shard = 0; shard < cluster.ConntrackSettings.Shards; shard++)
        {
            var stats = await cluster.Conntrack.Ask<ShardStatistics>(new ConntrackEnvelope(shard, GetShardStatistics.Instance), Patience).ConfigureAwait(false);
            for (var counter = ConntrackCounter.NotIp; counter <= ConntrackCounter.TcpOutOfWindow; counter++)
            {
                invalid += stats[counter];
            }

            created += stats[ConntrackCounter.Created];
        }

        return new Snapshot(
            timestamp,
            pmds.Sum(p => p.Pipeline.PacketsReceived),
            pmds.Sum(p => p.Pipeline.Recirculations),
            pmds.Sum(p => p.Pipeline.EmcHits),
            pmds.Sum(p => p.Pipeline.UpcallsOk + p.Pipeline.UpcallsFailed),
            pmds.Sum(p => p.Pipeline.BypassHits),
            pmds.Sum(p => p.Pipeline.BypassInstalls),
            pmds.Sum(p => p.Pipeline.BypassGuardFallbacks),
            Actors.Node.PacketLedger.From(pmds, portStats).Dropped,
            portStats.Sum(p => p.TxPackets),
            invalid,
            created,
            pmds.Sum(p => p.Pipeline.ProcessingNs),
            pmds.Sum(p => p.ConntrackMessages),
            pmds.Sum(p => p.ConntrackInPlace),
            pmds.Sum(p => p.HostedShards),
            process.Cpu,
            process.Allocated,
            process.Collections,
            pmds.ToDictionary(p => p.Pmd, p => (p.Pipeline.PacketsReceived, p.Pipeline.ProcessingNs)));
    }

    private sealed record Snapshot(
        long Timestamp,
        long PacketsReceived,
        long Recirculations,
        long EmcHits,
        long Upcalls,
        long BypassHits,
        long BypassInstalls,
        long BypassGuardFallbacks,
        long Drops,
        long Transmitted,
        long CtInvalid,
        long CtCreated,
        long ProcessingNs,
        long CtMessages,
        long CtInPlace,
        int HostedShards,
        TimeSpan CpuTime,
        long AllocatedBytes,
        long Collections,
        IReadOnlyDictionary<int, (long Packets, long ProcessingNs)> PerPmd);
}
