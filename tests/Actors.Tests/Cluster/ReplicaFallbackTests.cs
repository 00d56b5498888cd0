using Actors.Conntrack;
using Actors.Conntrack.Handoff;
using Actors.Conntrack.Replica;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.Actions;
using Datapath.Conntrack;
using Host.Configuration;

namespace Actors.Tests.Cluster;

/// <summary>
/// A shard's new entity whose moved table cannot be taken (its chunks are refused, here because they
/// hold another shard's connections) falls back to the shard's replica, counted and logged, and answers
/// from it; with no replica it starts empty, logged and counted with the connections lost, never
/// silently. One cluster node (real keepers, every message serialized).
/// </summary>
public sealed class ReplicaFallbackTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const int Shards = 2;
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true, Mark = 3, MarkMask = 0xff };
    private readonly ConntrackSettings _settings;

    public ReplicaFallbackTests()
        : base(TestConfigs.Cluster($"datapath.conntrack.shards = {Shards}"))
    {
        _settings = DatapathSettings.From(Sys.Settings.Config, "test").Conntrack;
    }

    public async Task InitializeAsync()
    {
        await ClusterOfOne.JoinSelfAsync(Sys, TimeSpan.FromSeconds(30));
        ShardReplicas.Get(Sys).Keeper.Tell(new UseConntrackSettings(_settings));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public void A_moved_table_that_cannot_be_taken_gives_way_to_the_replica()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(100), _settings.Replication);
        var replica = TableOf(shard: 1);
        Seed(shard: 1, replica);
        Park(shard: 1, holding: TableOf(shard: 0));

        var entity = EventFilter.Error(contains: "falling back to its replica").ExpectOne(() =>
            EventFilter.Warning(contains: "started from its replica").ExpectOne(() =>
                Sys.ActorOf(ConntrackShardActor.Props(1, _settings, claimOnStart: true))));

        Assert.Equal(Dump(replica), DumpOf(entity));
        var replicas = ReplicaStatisticsOf();
        Assert.Equal((1, 1, (long)replica.Count), (replicas.Promotions, replicas.FallbacksAfterFailedHandoff, replicas.ConnectionsPromoted));
        AwaitAssert(() =>
        {
            var handoffs = HandoffStatisticsOf();
            Assert.Equal((HandoffLimits.Attempts, 0L, 0), (handoffs.ChunksRejected, handoffs.ConnectionsLost, handoffs.Parked));
        });
    }

    [Fact]
    public void Without_a_replica_the_shard_starts_empty_and_says_how_many_connections_were_lost()
    {
        var lost = TableOf(shard: 0);
        Park(shard: 1, holding: lost);

        var entity = EventFilter.Error(contains: "connections lost, the shard starts empty").ExpectOne(() =>
            Sys.ActorOf(ConntrackShardActor.Props(1, _settings, claimOnStart: true)));

        Assert.Empty(DumpOf(entity));
        var replicas = ReplicaStatisticsOf();
        Assert.Equal((0, 1, (long)lost.Count), (replicas.Promotions, replicas.StartedEmpty, replicas.ConnectionsLost));
        AwaitAssert(() => Assert.Equal(lost.Count, HandoffStatisticsOf().ConnectionsLost));
    }

    /// <summary>A table with the connections of many-conns.pcap that belong to <paramref name="shard"/>.</summary>
    private ConnectionTable TableOf(int shard)
    {
        var table = new ConnectionTable(_settings.ShardOptions());
        var frames = CaptureInputs.Read("many-conns.pcap");

        // On a clock that starts with the capture, as the owner's clock in the chunks (1 s) does: a
        // chunk's expiry times must be on its clock (within the longest timeout of it).
        long start = frames[0].TimeMs;
        foreach (var (input, time) in frames.Where(f => f.Input.IsValid && ConntrackShards.ShardOf(f.Input.ShardHash, Shards) == shard))
        {
            table.Execute(in input, in Commit, time - start);
        }

        Assert.True(table.Count > 0);
        return table;
    }

    /// <summary>Gives this node's replica keeper a complete replica of <paramref name="shard"/>, as its owner on another node would.</summary>
    private void Seed(int shard, ConnectionTable table)
    {
        var seed = table.BeginReplicaSeed();
        long sequence = 0;
        while (seed.TryNextChunk(ReplicaLimits.ChunkBytes, out var chunk))
        {
            ShardReplicas.Get(Sys).Keeper.Tell(new ReplicaChunk(shard, 11, sequence++, true, seed.Done, 1_000, chunk), TestActor);
        }

        AwaitAssert(() => Assert.Contains(ReplicaStatisticsOf().Replicas, r => r.Shard == shard && r.Complete && r.Connections == table.Count));
    }

    /// <summary>Parks, as a stopping entity would, a table of <paramref name="shard"/> that its new entity cannot take (another shard's connections).</summary>
    private void Park(int shard, ConnectionTable holding)
    {
        var parked = new ConntrackShard(shard, _settings, Sys.Scheduler.Now);
        var seed = holding.BeginReplicaSeed();
        while (seed.TryNextChunk(ReplicaLimits.ChunkBytes, out var chunk))
        {
            Assert.True(parked.Table.ApplyReplica(chunk).Ok);
        }

        ShardHandoff.Get(Sys).Keeper.Tell(new ParkShard(parked, []));
        AwaitAssert(() => Assert.Equal(1, HandoffStatisticsOf().Parked));
    }

    private List<string> DumpOf(IActorRef entity)
    {
        entity.Tell(new DumpConnections(null), TestActor);
        return [.. ExpectMsg<ConnectionsDumped>().Lines.Order(StringComparer.Ordinal)];
    }

    private static List<string> Dump(ConnectionTable table) =>
        [.. table.Snapshot().Select(s => ConntrackFormatter.FormatEntry(s)).Order(StringComparer.Ordinal)];

    private ReplicaStatistics ReplicaStatisticsOf()
    {
        var probe = CreateTestProbe();
        ShardReplicas.Get(Sys).Keeper.Tell(GetReplicaStatistics.Instance, probe.Ref);
        return probe.ExpectMsg<ReplicaStatistics>();
    }

    private HandoffStatistics HandoffStatisticsOf()
    {
        var probe = CreateTestProbe();
        ShardHandoff.Get(Sys).Keeper.Tell(GetHandoffStatistics.Instance, probe.Ref);
        return probe.ExpectMsg<HandoffStatistics>();
    }
}
