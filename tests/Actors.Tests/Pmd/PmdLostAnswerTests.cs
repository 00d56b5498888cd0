using Actors.Conntrack;
using Actors.PacketPath;
using Actors.Pmd;
using Actors.Tests.Support;
using Akka.Actor;
using Akka.TestKit;
using Datapath.Packets;
using Datapath.Tests.Support;
using Ports = Actors.Tests.Ports;

namespace Actors.Tests.Pmd;

/// <summary>
/// A conntrack answer that never comes (the shard stopped, restarted or lost the message) must not
/// stall the PMD: after the timeout the packets are dropped and counted, and the PMD is quiet again.
/// Virtual time; the conntrack region is a probe that never answers.
/// </summary>
public sealed class PmdLostAnswerTests : Akka.TestKit.Xunit2.TestKit
{
    public PmdLostAnswerTests()
        : base(TestConfigs.LocalVirtualTime())
    {
    }

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    [Fact]
    public void Packets_whose_conntrack_answer_never_comes_are_dropped_and_counted_after_the_timeout()
    {
        var shards = CreateTestProbe();
        var port = CreateTestProbe();
        var settings = Defaults.PmdSettings with { ConntrackAnswerTimeout = TimeSpan.FromSeconds(5), RevalidateInterval = TimeSpan.FromSeconds(1), DirectConntrackRoutes = false };
        var pmd = Sys.ActorOf(PmdActor.Props(0, settings, shards.Ref, shardCount: 1, PathBatch.NewPool()));
        var pool = new ConcurrentPacketPool(64);
        pmd.Tell(new UsePorts([new PortLink(1, port.Ref, pool), new PortLink(2, port.Ref, pool)]));
        pmd.Tell(new UseFlows(1, Ports.ActorReplayTests.Firewall()));

        var frame = Ports.ActorReplayTests.Frames(TestData.Capture("udp-dns.pcap")).First(f => f.Port == 1 && f.Bytes.Length > 60);
        var rx = new ConcurrentPacketPool(1);
        rx.TryRent(out var packet);
        packet.SetFrame(frame.Bytes, frame.Port);
        var batch = new PathBatch();
        batch.Add(packet);
        pmd.Tell(batch.Received(0), ActorRefs.NoSender);
        shards.ExpectMsg<TrackConnections>();
        pmd.Tell(new Quiesce(1));
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        Scheduler.Advance(TimeSpan.FromSeconds(7));

        ExpectMsg<Quiesced>(q => q.Token == 1);
        Assert.Equal(1, rx.Available);
        pmd.Tell(GetPmdStatistics.Instance);
        var stats = ExpectMsg<PmdStatistics>();
        Assert.Equal(1, stats.Drops["conntrack answer lost"]);
        Assert.Equal(0, stats.InFlightPackets);
        port.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void An_answer_the_PMD_did_not_ask_for_is_ignored()
    {
        var shards = CreateTestProbe();
        var port = CreateTestProbe();
        var pmd = Sys.ActorOf(PmdActor.Props(0, Defaults.PmdSettings with { DirectConntrackRoutes = false }, shards.Ref, shardCount: 1, PathBatch.NewPool()));
        var pool = new ConcurrentPacketPool(64);
        pmd.Tell(new UsePorts([new PortLink(1, port.Ref, pool), new PortLink(2, port.Ref, pool)]));
        pmd.Tell(new UseFlows(1, Ports.ActorReplayTests.Firewall()));

        // An answer for a batch id this PMD never used (as from its previous incarnation).
        pmd.Tell(new ConnectionsTracked(0, 12345, [new Datapath.Conntrack.ConntrackResult { State = CtState.New | CtState.Tracked }]));
        pmd.Tell(new Quiesce(7));

        ExpectMsg<Quiesced>(q => q.Token == 7);
        port.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }
}
