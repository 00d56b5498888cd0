using Actors.Conntrack;
using Actors.Tests.Support;
using Akka.Actor;
using Akka.TestKit;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Packets;
using Datapath.Tests.Support;

namespace Actors.Tests.Conntrack;

/// <summary>One shard actor on its own (no cluster), on virtual time, with every message serialized.</summary>
public sealed class ConntrackShardActorTests : Akka.TestKit.Xunit2.TestKit
{
    private const CtState NewTrk = CtState.New | CtState.Tracked;
    private const CtState EstTrk = CtState.Established | CtState.Tracked;
    private const CtState EstRplTrk = CtState.Established | CtState.Reply | CtState.Tracked;
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true };

    public ConntrackShardActorTests()
        : base(TestConfigs.LocalVirtualTime())
    {
    }

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    [Fact]
    public void A_handshake_sent_packet_by_packet_is_new_then_est_rpl_then_est_as_on_a_table()
    {
        var handshake = CaptureInputs.Frames("tcp-http.pcap", 3, 3);
        var direct = new ConntrackResult[3];
        new ConnectionTable(Defaults.ConntrackOptions).Execute(handshake, in Commit, 0, direct);
        var shard = Sys.ActorOf(ConntrackShardActor.Props(0, Defaults.ConntrackSettings));

        var states = new List<CtState>();
        for (int i = 0; i < handshake.Length; i++)
        {
            shard.Tell(new TrackConnections(0, i, 0, Commit, [handshake[i]]), TestActor);
            var reply = ExpectMsg<ConnectionsTracked>();
            Assert.Equal((0, (long)i), (reply.Shard, reply.BatchId));
            Assert.Single(reply.Results);
            states.Add(reply.Results[0].State);
            Assert.Equal(direct[i], reply.Results[0]);
        }

        Assert.Equal([NewTrk, EstRplTrk, EstTrk], states);
    }

    [Fact]
    public void A_handshake_in_one_batch_gives_the_results_in_packet_order()
    {
        var handshake = CaptureInputs.Frames("tcp-http.pcap", 3, 3);
        var shard = Sys.ActorOf(ConntrackShardActor.Props(5, Defaults.ConntrackSettings));

        shard.Tell(new TrackConnections(5, 77, 0, Commit, handshake), TestActor);

        var reply = ExpectMsg<ConnectionsTracked>();
        Assert.Equal((5, 77L), (reply.Shard, reply.BatchId));
        Assert.Equal([NewTrk, EstRplTrk, EstTrk], reply.Results.Select(r => r.State));
        Assert.All(reply.Results, r => Assert.Equal(ConntrackTuple.FromKey(handshake[0].Key), r.OriginalTuple));
    }

    [Fact]
    public void A_UDP_connection_expires_after_its_timeout_on_virtual_time_and_its_next_packet_is_new()
    {
        var query = FirstUdp("udp-dns.pcap");
        var shard = Sys.ActorOf(ConntrackShardActor.Props(0, Defaults.ConntrackSettings));
        Assert.Equal(NewTrk, Track(shard, query, nowMs: 0));

        // udp-first is 60 s; the shard sweeps every second.
        Scheduler.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(1, Statistics(shard).Connections);

        Scheduler.Advance(TimeSpan.FromSeconds(2));
        var stats = Statistics(shard);
        Assert.Equal(0, stats.Connections);
        Assert.Equal(1, stats[ConntrackCounter.Expired]);

        Assert.Equal(NewTrk, Track(shard, query, nowMs: 0));
        Assert.Equal(2, Statistics(shard)[ConntrackCounter.Created]);
    }

    [Fact]
    public void Capture_time_moves_the_shard_clock_so_a_replay_expires_connections_without_waiting()
    {
        var query = FirstUdp("udp-dns.pcap");
        var shard = Sys.ActorOf(ConntrackShardActor.Props(0, Defaults.ConntrackSettings));
        Assert.Equal(NewTrk, Track(shard, query, nowMs: 1_000));

        // 61 s later in capture time, no scheduler time: the old connection has expired on lookup.
        Assert.Equal(NewTrk, Track(shard, query, nowMs: 62_000));
        Assert.Equal(2, Statistics(shard)[ConntrackCounter.Created]);

        // A sender clock behind the shard's does not move it back: the connection stays.
        Assert.Equal(NewTrk, Track(shard, query, nowMs: 0));
        Assert.Equal(2, Statistics(shard)[ConntrackCounter.Created]);
    }

    [Fact]
    public void The_sweep_removes_at_most_its_budget_per_slice_and_runs_further_slices_without_waiting_for_the_timer()
    {
        var settings = Defaults.ConntrackSettings with { SweepBudget = 2 };
        var shard = Sys.ActorOf(ConntrackShardActor.Props(0, settings));
        var syns = CaptureInputs.Handshakes("many-conns.pcap", 5).Select(h => h.Syn).ToArray();
        shard.Tell(new TrackConnections(0, 1, 0, Commit, syns), TestActor);
        Assert.All(ExpectMsg<ConnectionsTracked>().Results, r => Assert.Equal(NewTrk, r.State));
        var before = Statistics(shard);
        Assert.Equal((5, 0L, 0L), (before.Connections, before[ConntrackCounter.Expired], before.SweepSlices));

        // tcp-syn-sent is 30 s: the one tick this fires finds all five expired.
        Scheduler.Advance(TimeSpan.FromSeconds(31));

        // Budget 2: slices of 2, 2 and 1, the later ones queued by the shard itself, with no more scheduler time.
        AwaitAssert(() => Assert.Equal(0, Statistics(shard).Connections));
        var after = Statistics(shard);
        Assert.Equal(5, after[ConntrackCounter.Expired]);
        Assert.Equal(3, after.SweepSlices);
    }

    [Fact]
    public void Dump_lists_connections_in_the_Open_vSwitch_format_and_flush_by_zone_removes_only_that_zone()
    {
        var inZone1 = CaptureInputs.Frames("tcp-http.pcap", 3, 1, zone: 1)[0];
        var inZone2 = FirstUdp("udp-dns.pcap", zone: 2);
        var shard = Sys.ActorOf(ConntrackShardActor.Props(0, Defaults.ConntrackSettings));
        Track(shard, inZone1, 0);
        Track(shard, inZone2, 0);
        string tcp = $"tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport={inZone1.Key.SrcPort},dport=8080),"
            + $"reply=(src=10.0.0.2,dst=10.0.0.1,sport=8080,dport={inZone1.Key.SrcPort}),zone=1,protoinfo=(state=SYN_SENT)";
        string udp = $"udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport={inZone2.Key.SrcPort},dport=53),"
            + $"reply=(src=10.0.0.2,dst=10.0.0.1,sport=53,dport={inZone2.Key.SrcPort}),zone=2";

        shard.Tell(new DumpConnections(null), TestActor);
        Assert.Equal(new[] { tcp, udp }.Order(StringComparer.Ordinal), ExpectMsg<ConnectionsDumped>().Lines.Order(StringComparer.Ordinal));
        shard.Tell(new DumpConnections(2), TestActor);
        Assert.Equal([udp], ExpectMsg<ConnectionsDumped>().Lines);

        shard.Tell(new FlushConnections(1), TestActor);
        Assert.Equal(new ConnectionsFlushed(0, 1), ExpectMsg<ConnectionsFlushed>());
        shard.Tell(new DumpConnections(null), TestActor);
        Assert.Equal([udp], ExpectMsg<ConnectionsDumped>().Lines);

        shard.Tell(new FlushConnections(null), TestActor);
        Assert.Equal(new ConnectionsFlushed(0, 1), ExpectMsg<ConnectionsFlushed>());
        Assert.Equal(0, Statistics(shard).Connections);
    }

    [Fact]
    public void Statistics_count_batches_packets_and_the_table_counters()
    {
        var frames = CaptureInputs.Frames("tcp-http.pcap", 1, 5);
        var shard = Sys.ActorOf(ConntrackShardActor.Props(3, Defaults.ConntrackSettings));
        shard.Tell(new TrackConnections(3, 1, 0, Commit, frames[..2]), TestActor);
        ExpectMsg<ConnectionsTracked>();
        shard.Tell(new TrackConnections(3, 2, 0, Commit, frames[2..]), TestActor);
        ExpectMsg<ConnectionsTracked>();

        var stats = Statistics(shard);

        Assert.Equal((3, 1, 2L, 5L), (stats.Shard, stats.Connections, stats.Batches, stats.Packets));
        Assert.Equal(2, stats[ConntrackCounter.NotIp]);
        Assert.Equal(1, stats[ConntrackCounter.Created]);
    }

    [Fact]
    public void A_restarted_shard_starts_empty_and_keeps_working()
    {
        var (query, response) = UdpExchange("udp-dns.pcap");
        var shard = Sys.ActorOf(ConntrackShardActor.Props(0, Defaults.ConntrackSettings));
        Assert.Equal(NewTrk, Track(shard, query, 0));
        Assert.Equal(EstRplTrk, Track(shard, response, 0));

        EventFilter.Exception<ShardRestartRequestedException>().ExpectOne(() => shard.Tell(RestartShard.Instance));

        // The response now opens a connection of its own, and the shard goes on tracking it.
        Assert.Equal(0, Statistics(shard).Connections);
        Assert.Equal(NewTrk, Track(shard, response, 0));
        Assert.Equal(EstRplTrk, Track(shard, query, 0));
    }

    private CtState Track(IActorRef shard, ConntrackInput input, long nowMs)
    {
        shard.Tell(new TrackConnections(0, 0, nowMs, Commit, [input]), TestActor);
        return ExpectMsg<ConnectionsTracked>().Results[0].State;
    }

    private ShardStatistics Statistics(IActorRef shard)
    {
        shard.Tell(GetShardStatistics.Instance, TestActor);
        return ExpectMsg<ShardStatistics>();
    }

    /// <summary>The first UDP packet of a capture and the first packet of the other direction.</summary>
    private static (ConntrackInput Query, ConntrackInput Response) UdpExchange(string capture)
    {
        var query = FirstUdp(capture);
        var response = CaptureInputs.Read(capture).Select(x => x.Input).First(i => i.IsValid && i.Key == query.Key.Reverse());
        return (query, response);
    }

    private static ConntrackInput FirstUdp(string capture, ushort zone = 0) =>
        CaptureInputs.Read(capture, zone).Select(x => x.Input).First(i => i.IsValid && i.Key.Protocol == 17);
}
