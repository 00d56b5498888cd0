using Actors.Cluster;
using Actors.Node;
using Actors.PacketPath;
using Actors.Pmd;
using Actors.Ports;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.Packets;
using Datapath.Tests.Support;
using Ports = Actors.Tests.Ports;

namespace Actors.Tests.Pmd;

/// <summary>
/// A PMD restarted by its supervisor loses what it had in flight (counted, never more than that)
/// and, once its bridge has given it the tables again, forwards as before.
/// </summary>
public sealed class PmdRestartTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_restart_loses_only_the_batch_in_flight_and_the_PMD_keeps_forwarding()
    {
        // Shards in their own actors, so that a batch waits for its conntrack answer when the restart comes.
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Cluster(), Defaults.ConntrackSettings with { HostOnPmds = false }, upTimeout: Patience);
        var node = DatapathNode.Start(cluster, 1, Defaults.PmdSettings, Defaults.BridgeSettings);
        var port2 = CreateTestProbe(cluster.System);
        var events = CreateTestProbe(cluster.System);
        cluster.System.EventStream.Subscribe(events.Ref, typeof(PmdPacketsLost));
        cluster.System.EventStream.Subscribe(events.Ref, typeof(PmdRestarted));
        var pool = new ConcurrentPacketPool(1024);
        await node.UsePortsAsync([new PortLink(1, CreateTestProbe(cluster.System), pool), new PortLink(2, port2, pool)], Patience);
        await node.UseFlowsAsync(Ports.ActorReplayTests.Firewall(), Patience);

        // Datagrams from port 1 (all forwarded by the firewall): one batch, then a restart before
        // conntrack has answered, then a second batch.
        var frames = Ports.ActorReplayTests.Frames(TestData.Capture("udp-stream.pcap")).Where(f => f.Port == 1 && f.Bytes.Length > 42).ToList();
        var pmd = node.Pmds[0];
        var rx = new ConcurrentPacketPool(64);
        pmd.Tell(new ProcessBatch(Batch(rx, frames.Take(PacketBatch.MaxSize)), frames[0].TimeMs, null));
        pmd.Tell(RestartPmd.Instance);
        var second = frames.Skip(PacketBatch.MaxSize).Take(PacketBatch.MaxSize).ToList();
        pmd.Tell(new ProcessBatch(Batch(rx, second), second[0].TimeMs, null));

        var lost = await events.ExpectMsgAsync<PmdPacketsLost>(Patience);
        Assert.Equal(0, lost.Pmd);
        Assert.Equal(PacketBatch.MaxSize, lost.Packets);
        await events.ExpectMsgAsync<PmdRestarted>(Patience);

        var sent = new List<byte[]>();
        while (sent.Count < second.Count)
        {
            var tx = await port2.ExpectMsgAsync<TransmitBatch>(Patience);
            sent.AddRange(tx.Batch.Packets.ToArray().Select(p => p.Data.ToArray()));
        }

        // Every frame of the second batch left (order across connections is the shards' business;
        // order within one is tested in PmdOrderTests).
        Assert.Equal(second.Select(f => Convert.ToHexString(f.Bytes)).Order(), sent.Select(Convert.ToHexString).Order());
        await node.StopAsync();
    }

    private static PacketBatch Batch(ConcurrentPacketPool pool, IEnumerable<ReplayFrame> frames)
    {
        var batch = new PacketBatch();
        foreach (var frame in frames)
        {
            pool.TryRent(out var packet);
            packet.SetFrame(frame.Bytes, frame.Port);
            batch.Add(packet);
        }

        return batch;
    }
}
