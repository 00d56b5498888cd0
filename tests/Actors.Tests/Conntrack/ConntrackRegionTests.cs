using Actors.Conntrack;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Packets;
using Datapath.Tests.Support;
using Host.Configuration;

namespace Actors.Tests.Conntrack;

/// <summary>
/// The conntrack region, with every message serialized: the same facts for the two regions a node
/// can have (Akka.Cluster.Sharding on a cluster node, local shard actors on a standalone one).
/// </summary>
public abstract class ConntrackRegionFacts : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    protected const int Shards = 8;
    private const CtState NewTrk = CtState.New | CtState.Tracked;
    private const CtState EstTrk = CtState.Established | CtState.Tracked;
    private const CtState EstRplTrk = CtState.Established | CtState.Reply | CtState.Tracked;
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true };
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private IActorRef _region = ActorRefs.Nobody;
    private long _nextBatch;

    protected ConntrackRegionFacts(Akka.Configuration.Config config)
        : base(config)
    {
        Settings = DatapathSettings.From(Sys.Settings.Config, "test").Conntrack;
    }

    protected ConntrackSettings Settings { get; }

    public async Task InitializeAsync() => _region = await StartRegionAsync();

    /// <summary>Starts the region under test in <c>Sys</c>.</summary>
    protected abstract Task<IActorRef> StartRegionAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public void A_handshake_through_the_region_is_new_then_est_rpl_then_est_as_on_one_table()
    {
        var handshake = CaptureInputs.Frames("tcp-http.pcap", 3, 3);
        var direct = new ConntrackResult[3];
        new ConnectionTable(Defaults.ConntrackOptions).Execute(handshake, in Commit, 0, direct);

        var results = handshake.Select(input => Track([input])[0]).ToArray();

        Assert.Equal([NewTrk, EstRplTrk, EstTrk], results.Select(r => r.State));
        Assert.Equal(direct, results);
    }

    [Fact]
    public void Restarting_one_shard_loses_only_its_connections_and_the_datapath_keeps_working()
    {
        var handshakes = CaptureInputs.Handshakes("many-conns.pcap", 24);
        Assert.All(Track(handshakes.Select(h => h.Syn).ToArray()), r => Assert.Equal(NewTrk, r.State));
        Assert.All(Track(handshakes.Select(h => h.SynAck).ToArray()), r => Assert.Equal(EstRplTrk, r.State));
        int restarted = ConntrackShards.ShardOf(handshakes[0].Syn.ShardHash, Shards);
        var onRestarted = handshakes.Where(h => ShardOf(h.Syn) == restarted).ToList();
        var elsewhere = handshakes.Where(h => ShardOf(h.Syn) != restarted).ToList();
        Assert.NotEmpty(elsewhere);

        EventFilter.Exception<ShardRestartRequestedException>().ExpectOne(
            Patience,
            () => _region.Tell(new ConntrackEnvelope(restarted, RestartShard.Instance)));

        // Elsewhere the handshakes complete; on the restarted shard the ACKs find no connection and start new ones.
        var fresh = new ConnectionTable(Defaults.ConntrackOptions);
        Assert.All(Track(elsewhere.Select(h => h.Ack).ToArray()), r => Assert.Equal(EstTrk, r.State));
        var acks = Track(onRestarted.Select(h => h.Ack).ToArray());
        Assert.All(acks, (r, i) => Assert.Equal(fresh.Execute(onRestarted[i].Ack, in Commit, 0).State, r.State));
        Assert.All(acks, r => Assert.Equal(NewTrk, r.State));
        Assert.Equal(onRestarted.Count, Statistics(restarted)[ConntrackCounter.Created]);
    }

    [Fact]
    public void Dump_and_flush_by_zone_go_through_the_region_to_every_shard()
    {
        var zone1 = CaptureInputs.Handshakes("many-conns.pcap", 10).Select(h => WithZone(h.Syn, 1)).ToArray();
        var zone2 = CaptureInputs.Handshakes("many-conns.pcap", 3).Select(h => WithZone(h.Syn, 2)).ToArray();
        Track(zone1, zone: 1);
        Track(zone2, zone: 2);

        var lines = Dump(null);
        Assert.Equal(13, lines.Count);
        Assert.Equal(10, lines.Count(l => l.Contains(",zone=1,", StringComparison.Ordinal)));
        Assert.All(lines, l => Assert.StartsWith("tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=", l, StringComparison.Ordinal));
        Assert.All(lines, l => Assert.EndsWith(",protoinfo=(state=SYN_SENT)", l, StringComparison.Ordinal));

        int flushed = 0;
        for (int shard = 0; shard < Shards; shard++)
        {
            _region.Tell(new ConntrackEnvelope(shard, new FlushConnections(1)), TestActor);
            var reply = ExpectMsg<ConnectionsFlushed>(Patience);
            Assert.Equal(shard, reply.Shard);
            flushed += reply.Count;
        }

        Assert.Equal(10, flushed);
        Assert.Equal(3, Dump(null).Count);
        Assert.All(Dump(2), l => Assert.Contains(",zone=2,", l, StringComparison.Ordinal));
    }

    [Fact]
    public void Replaying_tcp_http_in_batches_of_32_gives_the_states_Open_vSwitch_gives()
    {
        var frames = CaptureInputs.Read("tcp-http.pcap");
        var expected = CaptureInputs.ExpectedStates("tcp-http");
        var batcher = new ConntrackBatcher(Shards);
        var states = new List<string>();
        for (int start = 0; start < frames.Count; start += 32)
        {
            var batch = frames.Skip(start).Take(32).ToArray();
            var messages = new List<TrackConnections>();
            batcher.Split(batch.Select(f => f.Input).ToArray(), in Commit, batch[0].TimeMs, start, messages);
            Assert.True(messages.Count <= Shards);
            foreach (var message in messages)
            {
                _region.Tell(message, TestActor);
            }

            while (!batcher.Merge(ExpectMsg<ConnectionsTracked>(Patience)))
            {
            }

            foreach (var result in batcher.Results)
            {
                states.Add(ConntrackFormatter.FormatState(result.State));
            }
        }

        Assert.Equal(expected, states);
    }

    [Fact]
    public void Direct_routes_learn_the_shard_actor_from_its_reply_and_send_to_it()
    {
        var routes = new ConntrackRoutes(_region, Shards, direct: true);
        var handshake = CaptureInputs.Frames("tcp-http.pcap", 3, 3);
        int shard = ShardOf(handshake[0]);

        routes.Send(new TrackConnections(shard, 1, 0, Commit, handshake[..1]), TestActor);
        Assert.Equal(NewTrk, ExpectMsg<ConnectionsTracked>(Patience).Results[0].State);
        var shardActor = LastSender;
        Assert.True(routes.Learn(shard, shardActor));
        Assert.False(routes.Learn(shard, shardActor));
        Watch(shardActor);

        routes.Send(new TrackConnections(shard, 2, 0, Commit, handshake[1..]), TestActor);
        Assert.Equal([EstRplTrk, EstTrk], ExpectMsg<ConnectionsTracked>(Patience).Results.Select(r => r.State));
        Assert.Equal(shardActor, LastSender);
        routes.Send(shard, GetShardStatistics.Instance, TestActor);
        Assert.Equal(3, ExpectMsg<ShardStatistics>(Patience).Packets);

        // A route to a shard actor that stopped is forgotten; the region answers again, once it has
        // learnt of the stop by its own Terminated, which may come after the test's request (the
        // request then goes to the dead actor): ask until a new shard actor answers.
        Sys.Stop(shardActor);
        ExpectTerminated(shardActor, Patience);
        routes.Forget(shardActor);
        AwaitAssert(
            () =>
            {
                routes.Send(shard, GetShardStatistics.Instance, TestActor);
                Assert.Equal(0, ExpectMsg<ShardStatistics>(TimeSpan.FromSeconds(2)).Connections);
            },
            Patience);
    }

    private static int ShardOf(ConntrackInput input) => ConntrackShards.ShardOf(input.ShardHash, Shards);

    private static ConntrackInput WithZone(ConntrackInput input, ushort zone)
    {
        input.Key.Zone = zone;
        input.ShardHash = ConntrackInputParser.ShardHashOf(in input.Key);
        return input;
    }

    /// <summary>Sends one batch through the region, as a PMD would, and returns its results in order.</summary>
    private ConntrackResult[] Track(ConntrackInput[] inputs, ushort zone = 0)
    {
        var batcher = new ConntrackBatcher(Shards);
        var messages = new List<TrackConnections>();
        batcher.Split(inputs, Commit with { Zone = zone }, 0, ++_nextBatch, messages);
        foreach (var message in messages)
        {
            _region.Tell(message, TestActor);
        }

        while (!batcher.IsComplete)
        {
            batcher.Merge(ExpectMsg<ConnectionsTracked>(Patience));
        }

        return batcher.Results.ToArray();
    }

    private List<string> Dump(ushort? zone)
    {
        var lines = new List<string>();
        for (int shard = 0; shard < Shards; shard++)
        {
            _region.Tell(new ConntrackEnvelope(shard, new DumpConnections(zone)), TestActor);
            lines.AddRange(ExpectMsg<ConnectionsDumped>(Patience).Lines);
        }

        return lines;
    }

    private ShardStatistics Statistics(int shard)
    {
        _region.Tell(new ConntrackEnvelope(shard, GetShardStatistics.Instance), TestActor);
        return ExpectMsg<ShardStatistics>(Patience);
    }
}

/// <summary>The region of a single-node cluster: Akka.Cluster.Sharding.</summary>
public sealed class ClusterConntrackRegionTests() : ConntrackRegionFacts(TestConfigs.Cluster($"datapath.conntrack.shards = {Shards}"))
{
    protected override async Task<IActorRef> StartRegionAsync()
    {
        await ClusterOfOne.JoinSelfAsync(Sys, Patience);
        return await ConntrackSharding.StartAsync(Sys, Settings);
    }
}

/// <summary>The region of a standalone node (the embedded default): the shard actors as local children.</summary>
public sealed class LocalConntrackRegionTests() : ConntrackRegionFacts(TestConfigs.Standalone($"datapath.conntrack.shards = {Shards}"))
{
    protected override Task<IActorRef> StartRegionAsync() =>
        Task.FromResult(Sys.ActorOf(Actors.Cluster.LocalConntrackRegion.Props(Settings), "conntrack"));

    [Fact]
    public void A_message_for_a_shard_outside_the_count_is_dropped_and_the_region_goes_on()
    {
        var region = Sys.ActorOf(Actors.Cluster.LocalConntrackRegion.Props(Settings), "other");
        var unhandled = CreateTestProbe();
        Sys.EventStream.Subscribe(unhandled, typeof(Akka.Event.UnhandledMessage));
        region.Tell(new ConntrackEnvelope(Shards, GetShardStatistics.Instance), TestActor);
        Assert.Same(region, unhandled.ExpectMsg<Akka.Event.UnhandledMessage>(Patience).Recipient);
        region.Tell(new ConntrackEnvelope(Shards - 1, GetShardStatistics.Instance), TestActor);
        Assert.Equal(Shards - 1, ExpectMsg<ShardStatistics>(Patience).Shard);
    }
}
