using Actors.Bridge;
using Actors.Tests.Support;
using Akka.Actor;

namespace Actors.Tests.Bridge;

/// <summary>
/// The gatherer on virtual time, as a child of the test actor (its parent gets the result): it
/// ends when each actor asked has answered or stopped, and at the timeout otherwise.
/// </summary>
public sealed class PmdGatherActorTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public PmdGatherActorTests()
        : base(TestConfigs.LocalVirtualTime())
    {
    }

    [Fact]
    public void An_actor_that_stopped_before_it_was_asked_counts_as_missing_without_waiting_for_the_timeout()
    {
        var stopped = CreateTestProbe();
        var live = CreateTestProbe();
        Watch(stopped.Ref);
        Sys.Stop(stopped.Ref);
        ExpectTerminated(stopped.Ref);

        var gatherer = ChildActorOf(PmdGatherActor<string>.Props(7, [stopped.Ref, live.Ref], Timeout));
        live.Send(gatherer, "live's answer");

        // Virtual time never moves here: only the stop can have settled the other.
        var gathered = ExpectMsg<PmdAnswersGathered<string>>();
        Assert.Equal((7L, 1), (gathered.RequestId, gathered.Missing));
        Assert.Equal(["live's answer"], gathered.Answers);
    }

    [Fact]
    public void An_actor_that_stops_after_answering_is_counted_once_and_the_gather_waits_for_the_others()
    {
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        var gatherer = ChildActorOf(PmdGatherActor<string>.Props(1, [first.Ref, second.Ref], Timeout));
        first.Send(gatherer, "first");
        first.Send(gatherer, "first again");
        Watch(first.Ref);
        Sys.Stop(first.Ref);
        ExpectTerminated(first.Ref);

        second.Send(gatherer, "second");

        var gathered = ExpectMsg<PmdAnswersGathered<string>>();
        Assert.Equal(["first", "second"], gathered.Answers);
        Assert.Equal(0, gathered.Missing);
    }

    [Fact]
    public void An_actor_that_neither_answers_nor_stops_is_missing_once_the_timeout_passes()
    {
        var silent = CreateTestProbe();
        var live = CreateTestProbe();
        var gatherer = ChildActorOf(PmdGatherActor<string>.Props(2, [silent.Ref, live.Ref], Timeout));
        live.Send(gatherer, "live's answer");

        this.AdvanceUntilMessage(Timeout);
        var gathered = ExpectMsg<PmdAnswersGathered<string>>();
        Assert.Equal(["live's answer"], gathered.Answers);
        Assert.Equal(1, gathered.Missing);
    }

    [Fact]
    public void A_gather_of_no_one_ends_at_once_with_nothing_missing()
    {
        ChildActorOf(PmdGatherActor<string>.Props(3, [], Timeout));

        var gathered = ExpectMsg<PmdAnswersGathered<string>>();
        Assert.Equal((0, 0), (gathered.Answers.Count, gathered.Missing));
    }
}
