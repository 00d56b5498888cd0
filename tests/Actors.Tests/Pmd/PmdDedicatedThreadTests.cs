using Actors.Cluster;
using Actors.Node;
using Actors.Pmd;
using Actors.Tests.Support;
using Akka.Actor;
using Datapath.Tests.Support;

namespace Actors.Tests.Pmd;

/// <summary>datapath.pmd-dedicated-threads: each PMD on a thread of its own, which the port actors feeding it may share.</summary>
public sealed class PmdDedicatedThreadTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public PmdDedicatedThreadTests()
        : base(TestConfigs.LocalVirtualTime())
    {
    }

    [Fact]
    public async Task Actors_on_one_pmds_dispatcher_share_one_thread_and_each_pmd_has_its_own()
    {
        string first = PmdThreads.Register(Sys, 0);
        string second = PmdThreads.Register(Sys, 1);
        Assert.Equal(first, PmdThreads.Register(Sys, 0));
        Assert.NotEqual(first, second);

        var a = Sys.ActorOf(Props.Create(() => new ThreadReporter()).WithDispatcher(first));
        var b = Sys.ActorOf(Props.Create(() => new ThreadReporter()).WithDispatcher(first));
        var c = Sys.ActorOf(Props.Create(() => new ThreadReporter()).WithDispatcher(second));
        var threadsOfFirst = new HashSet<int>();
        var threadsOfSecond = new HashSet<int>();
        for (int i = 0; i < 20; i++)
        {
            threadsOfFirst.Add(await a.Ask<int>("thread", Patience));
            threadsOfFirst.Add(await b.Ask<int>("thread", Patience));
            threadsOfSecond.Add(await c.Ask<int>("thread", Patience));
        }

        Assert.Single(threadsOfFirst);
        Assert.Single(threadsOfSecond);
        Assert.NotEqual(threadsOfFirst.Single(), threadsOfSecond.Single());
    }

    [Fact]
    public async Task A_node_with_dedicated_threads_puts_each_pmd_on_its_own_dispatcher_and_the_pmds_answer()
    {
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Standalone(), Defaults.ConntrackSettings, "threads");
        var node = DatapathNode.Start(cluster, 2, Defaults.PmdSettings with { DedicatedThreads = true }, Defaults.BridgeSettings);

        Assert.Equal([PmdThreads.DispatcherId(0), PmdThreads.DispatcherId(1)], node.PmdDispatchers);
        for (int i = 0; i < 2; i++)
        {
            var stats = await node.Pmds[i].Ask<PmdStatistics>(GetPmdStatistics.Instance, Patience);
            Assert.Equal(i, stats.Pmd);
        }

        await node.StopAsync();
    }

    [Fact]
    public async Task By_default_the_pmds_share_the_default_dispatcher()
    {
        Assert.False(Defaults.PmdSettings.DedicatedThreads);
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Standalone(), Defaults.ConntrackSettings, "pooled");
        var node = DatapathNode.Start(cluster, 1, Defaults.PmdSettings, Defaults.BridgeSettings);

        Assert.Null(node.PmdDispatchers);
        await node.StopAsync();
    }

    private sealed class ThreadReporter : ReceiveActor
    {
        public ThreadReporter() => Receive<string>(_ => Sender.Tell(Environment.CurrentManagedThreadId));
    }
}
