using System.Diagnostics;
using Actors.Configuration;
using Datapath.Caches;
using Datapath.Classifier;
using Datapath.Packets;
using Datapath.Pipeline;
using Datapath.Traffic;

namespace Host.MainJob;

/// <summary>
/// The main job until the actor datapath lands: one PMD pipeline fed by synthetic UDP traffic
/// on ports 1 and 2 (alternate batches of 32), cross-connected, run to a packet count.
/// </summary>
internal static class CrossConnectJob
{
    public static JobResult Run(DatapathSettings settings)
    {
        var g = settings.Generator;
        var generator = new UdpTrafficGenerator(g.Connections, g.FrameSize);
        var packets = new PacketPool(2 * PacketBatch.MaxSize);
        var batches = new PacketBatchPool();
        var ports = new[] { new PortCounters(), new PortCounters(), new PortCounters() };
        var emc = settings.EmcEntries == 0 ? null : new ExactMatchCache(settings.EmcEntries, settings.EmcInsertInvProb);
        var upcall = new CrossConnectUpcall();
        var pipeline = new PmdPipeline(emc, new MegaflowClassifier(), upcall, batches);
        var sink = new SinkPorts(packets, batches, ports);
        var input = new PacketBatch();

        var clock = Stopwatch.StartNew();
        long sent = 0;
        int connection = 0;
        bool reply = false;
        while (sent < g.Packets)
        {
            int n = (int)Math.Min(PacketBatch.MaxSize, g.Packets - sent);
            var rx = ports[reply ? UdpTrafficGenerator.ServerPort : UdpTrafficGenerator.ClientPort];
            for (int i = 0; i < n; i++)
            {
                packets.TryRent(out var packet);
                generator.Fill(packet, connection, reply);
                rx.RxPackets++;
                rx.RxBytes += packet.Length;
                input.Add(packet);
                connection = connection + 1 == g.Connections ? 0 : connection + 1;
            }

            long start = Stopwatch.GetTimestamp();
            pipeline.Process(input, clock.ElapsedMilliseconds, ref sink);
            pipeline.Stats.ProcessingNs += (long)Stopwatch.GetElapsedTime(start).TotalNanoseconds;
            sent += n;
            reply = !reply;
        }

        return new JobResult(clock.Elapsed, pipeline, ports, upcall.Upcalls);
    }
}

internal sealed record JobResult(TimeSpan Elapsed, PmdPipeline Pipeline, PortCounters[] Ports, long Upcalls);
