using Actors.Conntrack;
using Actors.Conntrack.Handoff;
using Actors.Tests.Support;
using Akka.Actor;
using Akka.Event;
using Datapath.Actions;
using Datapath.Conntrack;
using Host.Configuration;

namespace Actors.Tests.Cluster;

/// <summary>
/// What sharding loses at a hand-off is sent again by the node's keeper (<see cref="ShardKeeperActor"/>):
/// a batch the old owner's region dropped when the hand-off began ("Avoiding reordering of buffered
/// messages at shard handoff", published as <see cref="Dropped"/> inside a dead letter), and a batch that
/// reached an actor after it stopped. Sent again through the region with its sender, it is answered;
/// nothing else that dies is sent again, and no message twice.
/// </summary>
public sealed class HandoffResendTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const string HandoffReason = "Avoiding reordering of buffered messages at shard handoff";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true };

    private readonly ConntrackSettings _settings;
    private IActorRef _region = ActorRefs.Nobody;

    public HandoffResendTests()
        : base(TestConfigs.TwoNodes("datapath.conntrack.shards = 2"))
    {
        _settings = DatapathSettings.From(Sys.Settings.Config, "test").Conntrack;
    }

    public async Task InitializeAsync()
    {
        await ClusterOfOne.JoinSelfAsync(Sys, Patience);
        _region = await ConntrackSharding.StartAsync(Sys, _settings);

        // The keeper subscribes to dead letters when it starts: an answer from it means it has, so
        // nothing the tests publish can pass before it listens (a loaded machine once lost one).
        await ShardHandoff.Get(Sys).Keeper.Ask<HandoffStatistics>(GetHandoffStatistics.Instance, Patience);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public void A_batch_sharding_dropped_when_a_hand_off_began_is_sent_again_and_answered()
    {
        var batch = Batch(1);
        Sys.DeadLetters.Tell(new Dropped(batch, HandoffReason, TestActor, ActorRefs.NoSender), _region);

        var answer = ExpectMsg<ConnectionsTracked>(Patience);
        Assert.Equal(batch.BatchId, answer.BatchId);
        Assert.Single(answer.Results);
        Assert.Equal(1, Statistics().MessagesResent);
    }

    [Fact]
    public async Task A_batch_that_reached_a_stopped_actor_is_sent_again_and_one_dropped_for_another_reason_is_not()
    {
        var stopped = Sys.ActorOf(Props.Empty);
        await stopped.GracefulStop(Patience);

        Sys.DeadLetters.Tell(new Dropped(Batch(2), "Buffer is full", TestActor, ActorRefs.NoSender), _region);
        stopped.Tell(Batch(3), TestActor);

        // The keeper takes its events in order: the answer to the second is proof it saw the first.
        Assert.Equal(3, ExpectMsg<ConnectionsTracked>(Patience).BatchId);
        Assert.Equal(1, Statistics().MessagesResent);
    }

    private TrackConnections Batch(long id)
    {
        var input = CaptureInputs.Read("udp-dns.pcap").Select(f => f.Input).First(i => i.Key.Protocol == 17);
        return new TrackConnections(ConntrackShards.ShardOf(input.ShardHash, _settings.Shards), id, 0, Commit, [input]);
    }

    private HandoffStatistics Statistics()
    {
        ShardHandoff.Get(Sys).Keeper.Tell(GetHandoffStatistics.Instance, TestActor);
        return ExpectMsg<HandoffStatistics>(Patience);
    }
}
