using Actors.PacketPath;
using Actors.Ports;
using Actors.Tests.Support;
using Akka.Actor;
using Akka.TestKit;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Tests.Support;
using Traffic;

namespace Actors.Tests.Ports;

/// <summary>The generator port on its own, on virtual time, with test probes playing the PMDs.</summary>
public sealed class GeneratorPortActorTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(200);

    private readonly ConcurrentBatchPool _batches = PathBatch.NewPool();

    public GeneratorPortActorTests()
        : base(TestConfigs.LocalVirtualTime())
    {
    }

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    [Fact]
    public void Frames_reach_the_PMD_that_serves_their_receive_queue()
    {
        // Three queues on two PMDs: queues 0 and 2 on PMD 0, queue 1 on PMD 1.
        var pmds = new[] { CreateTestProbe(), CreateTestProbe() };
        var profile = Defaults.TrafficProfile with { Connections = 300, ServerInitiatedPercent = 50 };
        var port = Start(Defaults.GeneratorPortSettings with { Profile = profile, QueuesPerPort = 3, Window = 64 }, pmds);

        port.Actor.Tell(StartTraffic.Instance);

        // Nothing is transmitted, so each connection sends its opening frame and waits.
        var queuesSeen = new[] { new HashSet<int>(), new HashSet<int>() };
        int frames = 0;
        var extraction = new ExtractionStats();
        while (frames < profile.Connections)
        {
            for (int pmd = 0; pmd < pmds.Length; pmd++)
            {
                while (pmds[pmd].HasMessages)
                {
                    var message = pmds[pmd].ExpectMsg<PathBatch>();
                    Assert.Equal(port.Actor, pmds[pmd].LastSender);
                    Assert.InRange(message.Count, 1, PacketBatch.MaxSize);
                    foreach (var packet in message.Packets)
                    {
                        var key = default(FlowKey);
                        FlowExtractor.Extract(packet, ref key, extraction);
                        int queue = (int)(ConnectionHash.PlacementHash(in key) % 3);
                        Assert.Equal(pmd, queue % 2);
                        Assert.Contains(packet.Metadata.InPort, new[] { 1u, 2u });
                        queuesSeen[pmd].Add(queue);
                        frames++;
                    }
                }
            }

            AwaitCondition(() => pmds[0].HasMessages || pmds[1].HasMessages || frames == profile.Connections);
        }

        Assert.Equal([0, 2], queuesSeen[0].Order());
        Assert.Equal([1], queuesSeen[1]);
        var stats = Statistics(port.Actor);
        Assert.Equal(frames, stats[1].RxPackets + stats[2].RxPackets);
        Assert.True(stats[1].RxPackets > 0 && stats[2].RxPackets > 0);
    }

    [Fact]
    public void Unpaced_traffic_stops_at_a_full_window_without_dropping_and_an_ack_reopens_it()
    {
        var pmd = CreateTestProbe();
        var port = Start(Defaults.GeneratorPortSettings with { Profile = Defaults.TrafficProfile with { Connections = 500 }, Window = 2, QueuesPerPort = 1 }, [pmd]);

        port.Actor.Tell(StartTraffic.Instance);

        var first = pmd.ExpectMsg<PathBatch>();
        pmd.ExpectMsg<PathBatch>();
        pmd.ExpectNoMsg(Quiet);
        Scheduler.Advance(TimeSpan.FromMilliseconds(50));
        pmd.ExpectNoMsg(Quiet);
        var stats = Statistics(port.Actor);
        Assert.Equal(2 * PacketBatch.MaxSize, stats[1].RxPackets);
        Assert.Equal(0, stats[1].RxDropped);

        port.Actor.Tell(new BatchTaken(0), pmd);

        Assert.Equal(PacketBatch.MaxSize, pmd.ExpectMsg<PathBatch>().Count);
        pmd.ExpectNoMsg(Quiet);
        Assert.Equal(3 * PacketBatch.MaxSize, Statistics(port.Actor)[1].RxPackets);
        Assert.Equal(PacketBatch.MaxSize, first.Count);
    }

    [Fact]
    public void Paced_traffic_beyond_a_full_window_is_dropped_and_counted_as_overload()
    {
        var pmd = CreateTestProbe();
        var profile = Defaults.TrafficProfile with { Connections = 500, RatePps = 1_000_000 };
        var port = Start(Defaults.GeneratorPortSettings with { Profile = profile, Window = 2, QueuesPerPort = 1 }, [pmd]);
        port.Actor.Tell(StartTraffic.Instance);
        Statistics(port.Actor);

        Scheduler.Advance(TimeSpan.FromMilliseconds(10));

        int received = pmd.ExpectMsg<PathBatch>().Count + pmd.ExpectMsg<PathBatch>().Count;
        pmd.ExpectNoMsg(Quiet);
        var stats = Statistics(port.Actor)[1];
        Assert.Equal(received, stats.RxPackets);
        Assert.Equal(profile.Connections, stats.RxPackets + stats.RxDroppedOverload);
        Assert.True(stats.RxDroppedOverload > 0);
        Assert.Equal(0, stats.RxDroppedPoolEmpty);
    }

    [Fact]
    public void A_frame_that_finds_the_receive_pool_empty_is_dropped_and_counted()
    {
        var pmd = CreateTestProbe();
        var profile = Defaults.TrafficProfile with { Connections = 500, RatePps = 1_000_000 };
        var port = Start(Defaults.GeneratorPortSettings with { Profile = profile, Window = 64, ReceivePoolSize = PacketBatch.MaxSize, QueuesPerPort = 1 }, [pmd]);
        port.Actor.Tell(StartTraffic.Instance);
        Statistics(port.Actor);

        Scheduler.Advance(TimeSpan.FromMilliseconds(10));

        // The probe keeps the packets: the pool holds one batch's worth.
        Assert.Equal(PacketBatch.MaxSize, ReceiveFrames([pmd], PacketBatch.MaxSize));
        pmd.ExpectNoMsg(Quiet);
        var stats = Statistics(port.Actor)[1];
        Assert.Equal(PacketBatch.MaxSize, stats.RxPackets);
        Assert.Equal(profile.Connections - PacketBatch.MaxSize, stats.RxDroppedPoolEmpty);
        Assert.Equal(0, stats.RxDroppedOverload);
    }

    [Fact]
    public void Paced_traffic_follows_the_profile_rate_on_virtual_time()
    {
        var pmd = CreateTestProbe();
        var profile = Defaults.TrafficProfile with { Connections = 5000, RatePps = 1000 };
        var port = Start(Defaults.GeneratorPortSettings with { Profile = profile, Window = 64, ReceivePoolSize = 8192, QueuesPerPort = 1 }, [pmd]);
        port.Actor.Tell(StartTraffic.Instance);
        Statistics(port.Actor);

        for (int i = 0; i < 100; i++)
        {
            Scheduler.Advance(TimeSpan.FromMilliseconds(10));
            Statistics(port.Actor);
            AckAndRecycle(pmd, port.Actor);
        }

        var stats = Statistics(port.Actor)[1];
        Assert.InRange(stats.RxPackets, 990, 1010);
        Assert.Equal(0, stats.RxDropped);
    }

    [Fact]
    public void Transmitted_frames_reach_the_host_behind_their_port_which_answers_them()
    {
        var pmd = CreateTestProbe();
        var profile = Defaults.TrafficProfile with { Connections = 8, TcpPercent = 100, UdpPercent = 0, IcmpPercent = 0 };
        var port = Start(Defaults.GeneratorPortSettings with { Profile = profile, QueuesPerPort = 1 }, [pmd]);
        var toServer = (ConcurrentPacketPool)port.Links[1].TransmitPool;
        int poolSize = toServer.Available;
        port.Actor.Tell(StartTraffic.Instance);

        // The SYNs from port 1 are forwarded by the fake PMD to port 2, as the firewall would.
        var syns = pmd.ExpectMsg<PathBatch>();
        Assert.Equal(profile.Connections, syns.Count);
        var transmit = PathBatch.Rent(_batches);
        foreach (var packet in syns.Packets)
        {
            Assert.True(toServer.TryRent(out var copy));
            copy.SetFrame(packet.Data, 2);
            transmit.Add(copy);
            packet.Pool!.Return(packet);
        }

        port.Actor.Tell(new BatchTaken(0), pmd);
        port.Actor.Tell(transmit.ToSend(2), pmd);

        var answers = pmd.ExpectMsg<PathBatch>();
        Assert.Equal(profile.Connections, answers.Count);
        Assert.All(answers.Packets.ToArray(), p => Assert.Equal(2u, p.Metadata.InPort));
        var stats = Statistics(port.Actor);
        Assert.Equal(profile.Connections, stats[2].TxPackets);
        Assert.Equal(profile.Connections, stats[2].RxPackets);
        Assert.Equal(profile.Connections, stats.Traffic!.RepliesSent);
        Assert.Equal(poolSize, toServer.Available);
    }

    [Fact]
    public void Drain_and_report_answers_once_every_PMD_is_quiet()
    {
        var pmds = new[] { CreateTestProbe(), CreateTestProbe() };
        var port = Start(Defaults.GeneratorPortSettings with { Profile = Defaults.TrafficProfile with { Connections = 50 }, QueuesPerPort = 2 }, pmds);
        port.Actor.Tell(StartTraffic.Instance);
        ReceiveFrames(pmds, 50);

        port.Actor.Tell(DrainAndReport.Instance, TestActor);

        var quiesces = pmds.Select(p => p.FishForMessage<Quiesce>(_ => true)).ToArray();
        port.Actor.Tell(new Quiesced(0, quiesces[0].Token), pmds[0]);
        ExpectNoMsg(Quiet);
        port.Actor.Tell(new Quiesced(1, quiesces[1].Token), pmds[1]);
        var drained = ExpectMsg<PortDrained>();
        Assert.Equal(50, drained.Statistics[1].RxPackets);
        Assert.Equal(50, drained.Statistics.Traffic!.Opened);
    }

    /// <summary>Takes the batches the probes get until <paramref name="frames"/> frames have come; the packets stay with the probes.</summary>
    private int ReceiveFrames(IReadOnlyList<TestProbe> pmds, int frames)
    {
        int received = 0;
        while (received < frames)
        {
            AwaitCondition(() => pmds.Any(p => p.HasMessages));
            foreach (var pmd in pmds.Where(p => p.HasMessages))
            {
                received += pmd.ExpectMsg<PathBatch>().Count;
            }
        }

        return received;
    }

    [Fact]
    public void A_split_part_s_frame_limit_is_its_share_at_least_one_frame_and_none_for_a_part_without_connections()
    {
        // Slot 0 (client address .1) in part 0, slots 1 and 2 in part 1, nothing in part 2.
        var profile = Defaults.TrafficProfile with { Connections = 3 };
        var shares = ConnectionShare.Split(profile, 3, (_, a, _, b, _) => (Math.Min(a, b) & 0xFF) == 1 ? 0 : 1);

        Assert.Equal([1L, 2L, 0L], shares.Select(s => GeneratorPortActor.PartFrameLimit(2, s)));
        Assert.Equal([100L, 200L, 0L], shares.Select(s => GeneratorPortActor.PartFrameLimit(300, s)));
        Assert.All(shares, s => Assert.Equal(0, GeneratorPortActor.PartFrameLimit(0, s)));
    }

    private PortHandle Start(GeneratorPortSettings settings, IReadOnlyList<TestProbe> pmds) =>
        GeneratorPortActor.Start(Sys, settings, pmds.Select(p => p.Ref).ToArray(), _batches);

    /// <summary>The counters; also a barrier: every message sent to the port before has been handled.</summary>
    private PortActorStatistics Statistics(IActorRef port)
    {
        port.Tell(GetPortStatistics.Instance, TestActor);
        return ExpectMsg<PortActorStatistics>();
    }

    private void AckAndRecycle(TestProbe pmd, IActorRef port)
    {
        while (pmd.HasMessages)
        {
            var batch = pmd.ExpectMsg<PathBatch>();
            foreach (var packet in batch.Packets)
            {
                packet.Pool!.Return(packet);
            }

            _batches.Return(batch);
            port.Tell(new BatchTaken(0), pmd);
        }
    }
}
