using Actors.Conntrack;
using Actors.Conntrack.Handoff;
using Actors.Conntrack.Replica;
using Actors.Tests.Support;
using Akka.Actor;
using Host.Configuration;

namespace Actors.Tests.Cluster;

/// <summary>
/// A chunk that starts no transfer, reaching a shard's new entity while it claims its table (one that
/// names no transfer, or a late one of a transfer it never began), is ignored: the claim goes on and
/// the shard starts, never failing on it. One cluster node (real keepers, nothing parked, no replica).
/// </summary>
public sealed class HandoffStrayChunkTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private readonly ConntrackSettings _settings;

    public HandoffStrayChunkTests()
        : base(TestConfigs.Cluster("datapath.conntrack.shards = 2"))
    {
        _settings = DatapathSettings.From(Sys.Settings.Config, "test").Conntrack;
    }

    public async Task InitializeAsync()
    {
        await ClusterOfOne.JoinSelfAsync(Sys, TimeSpan.FromSeconds(30));

        // A shard that starts replicating reads sharding's settings, which the extension brings (an entity always runs under it).
        Akka.Cluster.Sharding.ClusterSharding.Get(Sys);
        ShardReplicas.Get(Sys).Keeper.Tell(new UseConntrackSettings(_settings));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData(-1L, 0)] // names no transfer: was taken as the current one and imported into no table
    [InlineData(5L, 3)] // a late chunk: left the claim waiting with no source, and its timeout failed
    public void A_stray_chunk_during_a_claim_is_ignored_and_the_shard_starts(long transferId, int sequence)
    {
        var errors = CreateTestProbe();
        Sys.EventStream.Subscribe(errors.Ref, typeof(Akka.Event.Error));

        var entity = Sys.ActorOf(ConntrackShardActor.Props(1, _settings, claimOnStart: true));
        entity.Tell(new ShardStateChunk(1, transferId, sequence, Last: false, ClockMs: 0, Connections: 0, Data: []));
        entity.Tell(new DumpConnections(null), TestActor);

        // Answered once the shard runs (a restart would have answered too, after logging the failure).
        Assert.Empty(ExpectMsg<ConnectionsDumped>(TimeSpan.FromSeconds(60)).Lines);
        errors.ExpectNoMsg(TimeSpan.Zero);
    }
}
