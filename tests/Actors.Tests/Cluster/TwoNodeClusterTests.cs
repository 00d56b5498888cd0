using Actors.Cluster;
using Actors.Conntrack;
using Actors.Tests.Support;
using Akka.Actor;
using Akka.TestKit;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Packets;
using Datapath.Tests.Support;
using Host.Configuration;

namespace Actors.Tests.Cluster;

/// <summary>
/// Two actor systems in one cluster over 127.0.0.1 (OS-chosen ports): node A is the TestKit's
/// system, node B a second <see cref="DatapathCluster"/> that joins it. Wire messages cross
/// between them through Hyperion.
/// </summary>
public sealed class TwoNodeClusterTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const int Shards = 4;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true };

    private IActorRef _regionA = ActorRefs.Nobody;
    private DatapathCluster? _nodeB;

    public TwoNodeClusterTests()
        : base(TestConfigs.Cluster($"datapath.conntrack.shards = {Shards}"))
    {
    }

    public async Task InitializeAsync()
    {
        await ClusterOfOne.JoinSelfAsync(Sys, Patience);
        var cluster = Akka.Cluster.Cluster.Get(Sys);

        // Same system name and configuration; the seed is node A's address with its OS-chosen port.
        var settings = DatapathSettings.From(Sys.Settings.Config, "test").Conntrack;
        _nodeB = await DatapathCluster.StartAsync(Sys.Settings.Config, settings, Sys.Name, [cluster.SelfAddress], Patience);
        await AwaitAssertAsync(() => Assert.Equal(2, cluster.State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up)), Patience);

        // Regions start on nodes that are Up (see DatapathCluster.StartAsync).
        _regionA = await ConntrackSharding.StartAsync(Sys, settings);
    }

    public async Task DisposeAsync()
    {
        if (_nodeB is not null)
        {
            await _nodeB.ShutdownAsync().WaitAsync(Patience);
        }
    }

    [Fact]
    public void One_connection_sent_one_direction_from_each_node_reaches_one_shard_with_single_node_states()
    {
        var handshake = CaptureInputs.Frames("tcp-http.pcap", 3, 3);
        var single = new ConntrackResult[3];
        new ConnectionTable(Defaults.ConntrackOptions).Execute(handshake, in Commit, 0, single);
        int shard = ConntrackShards.ShardOf(handshake[0].ShardHash, Shards);
        var probeA = CreateTestProbe(Sys);
        var probeB = CreateTestProbe(_nodeB!.System);

        var syn = Track(_regionA, probeA, shard, handshake[0]);
        var synAck = Track(_nodeB.Conntrack, probeB, shard, handshake[1]);
        var ack = Track(_regionA, probeA, shard, handshake[2]);

        Assert.Equal(single, [syn.Result, synAck.Result, ack.Result]);
        Assert.Equal(
            [CtState.New | CtState.Tracked, CtState.Established | CtState.Reply | CtState.Tracked, CtState.Established | CtState.Tracked],
            new[] { syn.Result.State, synAck.Result.State, ack.Result.State });

        // The same shard actor answered both nodes: one entity, on one of them.
        Assert.Equal(syn.ShardActor.Path.ToStringWithoutAddress(), synAck.ShardActor.Path.ToStringWithoutAddress());
        Assert.Equal(syn.ShardActor.Path.ToStringWithoutAddress(), ack.ShardActor.Path.ToStringWithoutAddress());
        var homes = new[] { Home(syn.ShardActor, Sys), Home(synAck.ShardActor, _nodeB.System) };
        Assert.Equal(homes[0], homes[1]);
    }

    private static (ConntrackResult Result, IActorRef ShardActor) Track(IActorRef region, TestProbe probe, int shard, ConntrackInput input)
    {
        region.Tell(new TrackConnections(shard, 1, 0, Commit, [input]), probe.Ref);
        var reply = probe.ExpectMsg<ConnectionsTracked>(Patience);
        Assert.Equal(shard, reply.Shard);
        return (reply.Results[0], probe.LastSender);
    }

    /// <summary>The address of the node an actor lives on, as seen from <paramref name="viewer"/>.</summary>
    private static Address Home(IActorRef actor, ActorSystem viewer) =>
        actor.Path.Address.HasLocalScope ? Akka.Cluster.Cluster.Get(viewer).SelfAddress : actor.Path.Address;
}
