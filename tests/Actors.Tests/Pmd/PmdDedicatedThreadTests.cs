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
            Assert.Null(stats.Cpu);
        }

        await node.StopAsync();
    }

    [PinningFact]
    public async Task A_pmd_given_a_cpu_runs_on_that_cpu_only_with_the_actors_of_its_thread_and_says_so()
    {
        var allowed = CpuAffinity.OfCurrentThread();
        int cpu = allowed[^1];
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Standalone(), Defaults.ConntrackSettings, "pinned");
        var node = DatapathNode.Start(cluster, 1, Defaults.PmdSettings with { DedicatedThreads = true, Cpus = [cpu] }, Defaults.BridgeSettings);

        var stats = await node.Pmds[0].Ask<PmdStatistics>(GetPmdStatistics.Instance, Patience);
        var sameThread = cluster.System.ActorOf(Props.Create(() => new AffinityReporter()).WithDispatcher(node.PmdDispatchers![0]));
        var elsewhere = cluster.System.ActorOf(Props.Create(() => new AffinityReporter()));

        Assert.Equal(cpu, stats.Cpu);
        Assert.Equal([cpu], await sameThread.Ask<IReadOnlyList<int>>("cpus", Patience));
        Assert.Equal(allowed, await elsewhere.Ask<IReadOnlyList<int>>("cpus", Patience));
        await node.StopAsync();
    }

    [Fact]
    public async Task Cpus_without_a_thread_per_pmd_or_too_few_for_the_pmds_are_refused()
    {
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Standalone(), Defaults.ConntrackSettings, "unpinnable");

        Assert.Throws<ArgumentException>(() => DatapathNode.Start(cluster, 1, Defaults.PmdSettings with { DedicatedThreads = false, Cpus = [0] }, Defaults.BridgeSettings));
        Assert.Throws<ArgumentException>(() => DatapathNode.Start(cluster, 2, Defaults.PmdSettings with { DedicatedThreads = true, Cpus = [0] }, Defaults.BridgeSettings));
    }

    [Fact]
    public async Task By_default_each_pmd_has_a_thread_of_its_own_and_without_them_the_pmds_share_the_default_dispatcher()
    {
        Assert.True(Defaults.PmdSettings.DedicatedThreads);
        await using var cluster = await DatapathCluster.StartAsync(TestConfigs.Standalone(), Defaults.ConntrackSettings, "pooled");
        var threaded = DatapathNode.Start(cluster, 2, Defaults.PmdSettings, Defaults.BridgeSettings, "threaded");
        var pooled = DatapathNode.Start(cluster, 1, Defaults.PmdSettings with { DedicatedThreads = false }, Defaults.BridgeSettings, "pooled");

        Assert.Equal([PmdThreads.DispatcherId(0), PmdThreads.DispatcherId(1)], threaded.PmdDispatchers);
        Assert.Null(pooled.PmdDispatchers);
        await pooled.StopAsync();
        await threaded.StopAsync();
    }

    private sealed class ThreadReporter : ReceiveActor
    {
        public ThreadReporter() => Receive<string>(_ => Sender.Tell(Environment.CurrentManagedThreadId));
    }

    private sealed class AffinityReporter : ReceiveActor
    {
        public AffinityReporter() => Receive<string>(_ => Sender.Tell(CpuAffinity.OfCurrentThread()));
    }

    /// <summary>A fact about pinning threads to CPUs: Linux only, skipped with the reason elsewhere.</summary>
    [AttributeUsage(AttributeTargets.Method)]
    private sealed class PinningFactAttribute : FactAttribute
    {
        public PinningFactAttribute()
        {
            if (!CpuAffinity.IsSupported)
            {
                Skip = "pinning threads to CPUs is done on Linux only";
            }
        }
    }
}
