using Actors.PacketPath;
using Actors.Pmd;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.Tests.Support;

namespace Actors.Tests.Pmd;

/// <summary>datapath.pmd-dedicated-threads: a PMD on a thread of its own, and the same PMD otherwise.</summary>
public sealed class PmdDedicatedThreadTests : Akka.TestKit.Xunit2.TestKit
{
    public PmdDedicatedThreadTests()
        : base(TestConfigs.LocalVirtualTime())
    {
    }

    [Fact]
    public void A_pmd_with_a_dedicated_thread_runs_on_the_pinned_dispatcher_and_answers()
    {
        var settings = Defaults.PmdSettings with { DedicatedThreads = true };
        var props = PmdActor.Props(0, settings, CreateTestProbe().Ref, shardCount: 1, PathBatch.NewPool());
        Assert.Equal(PmdActor.DedicatedDispatcher, props.Dispatcher);

        // The embedded configuration defines the dispatcher: the PMD starts on it and answers.
        var pmd = Sys.ActorOf(props);
        pmd.Tell(GetPmdStatistics.Instance);
        Assert.Equal(0, ExpectMsg<PmdStatistics>().Pmd);
    }

    [Fact]
    public void By_default_a_pmd_shares_the_default_dispatcher()
    {
        Assert.False(Defaults.PmdSettings.DedicatedThreads);
        var props = PmdActor.Props(0, Defaults.PmdSettings, CreateTestProbe().Ref, shardCount: 1, PathBatch.NewPool());
        Assert.NotEqual(PmdActor.DedicatedDispatcher, props.Dispatcher);
    }
}
