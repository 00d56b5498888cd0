using Actors.Cluster;
using Actors.Node;
using Actors.PacketPath;
using Actors.Pmd;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Tests.Support;
using Ports = Actors.Tests.Ports;

namespace Actors.Tests.Pmd;

/// <summary>
/// Packets of one connection keep their order through the whole path (extraction, caches,
/// conntrack on the shards, recirculation, transmit), even when many batches are in flight at
/// once and their conntrack work is spread over several shards that answer independently.
/// </summary>
public sealed class PmdOrderTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public PmdOrderTests()
        : base(TestConfigs.Cluster("datapath.conntrack.shards = 8"))
    {
    }

    [Fact]
    public async Task Packets_of_each_connection_leave_in_the_order_they_arrived()
    {
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings with { Shards = 8 }, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, 1, Defaults.PmdSettings, Defaults.BridgeSettings);
        var port2 = CreateTestProbe(cluster.System);
        var pool = new ConcurrentPacketPool(4096);
        await node.UsePortsAsync([new PortLink(2, port2, pool), new PortLink(1, CreateTestProbe(cluster.System), pool)], Patience);
        await node.UseFlowsAsync(Ports.ActorReplayTests.Firewall(), Patience);

        // udp-stream's datagrams from port 1 (8 interleaved connections), all at once in batches of 32:
        // the firewall forwards every one of them (new, then est) to port 2.
        var frames = Ports.ActorReplayTests.Frames(TestData.Capture("udp-stream.pcap")).Where(f => f.Port == 1 && f.Bytes.Length > 42).ToList();
        var rx = new ConcurrentPacketPool(frames.Count);
        var pmd = node.Pmds[0];
        foreach (var chunk in frames.Chunk(PacketBatch.MaxSize))
        {
            var batch = new PathBatch();
            foreach (var frame in chunk)
            {
                rx.TryRent(out var packet);
                packet.SetFrame(frame.Bytes, frame.Port);
                batch.Add(packet);
            }

            pmd.Tell(batch.Received(chunk[0].TimeMs), ActorRefs.NoSender);
        }

        var sent = new List<byte[]>();
        while (sent.Count < frames.Count)
        {
            var tx = await port2.ExpectMsgAsync<PathBatch>(Patience);
            foreach (var packet in tx.Packets)
            {
                sent.Add(packet.Data.ToArray());
            }
        }

        Assert.Equal(ByConnection(frames.Select(f => f.Bytes)), ByConnection(sent));
        await node.StopAsync();
    }

    /// <summary>Each connection's frames, in order, keyed by its 5-tuple.</summary>
    private static Dictionary<string, List<string>> ByConnection(IEnumerable<byte[]> frames)
    {
        var byConnection = new Dictionary<string, List<string>>();
        var packet = new Packet();
        var key = default(FlowKey);
        var stats = new ExtractionStats();
        foreach (var bytes in frames)
        {
            packet.SetFrame(bytes, 1);
            FlowExtractor.Extract(packet, ref key, stats);
            string connection = $"{key.NwSrc}:{key.TpSrc}>{key.NwDst}:{key.TpDst}";
            if (!byConnection.TryGetValue(connection, out var list))
            {
                byConnection[connection] = list = [];
            }

            list.Add(Convert.ToHexString(bytes));
        }

        return byConnection;
    }
}
