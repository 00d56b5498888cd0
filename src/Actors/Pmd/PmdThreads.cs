using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;

namespace Actors.Pmd;

/// <summary>
/// datapath.pmd-dedicated-threads: each PMD gets a thread of its own, as Open vSwitch gives each PMD
/// a core, and the port actors that feed one PMD's receive queues may run on that same thread (a PMD
/// thread polls its own queues). Why one dispatcher per PMD rather than Akka's pinned dispatcher:
/// a pinned dispatcher gives every actor its own thread, so a port actor and its PMD would still hand
/// each batch across cores; measured, that hand-over (cache lines of packets and batches moving,
/// mailbox wake-ups) costs more than the packet work. A dispatcher of one dedicated thread per PMD
/// lets the port's batches reach the PMD on the core that wrote them.
///
/// The dispatchers are registered at run time (one per PMD index, as many as the node has) from the
/// template <see cref="TemplatePath"/> of the configuration: one dedicated thread, the PMD's throughput.
/// </summary>
public static class PmdThreads
{
    /// <summary>The configuration every PMD thread's dispatcher is made from (the embedded datapath.conf holds it).</summary>
    public const string TemplatePath = "datapath-pmd-dispatcher";

    // What a PMD thread is when the configuration has no template (a test's own configuration).
    private static readonly Config Fallback = ConfigurationFactory.ParseString(
        "throughput = 100\ndedicated-thread-pool { thread-count = 1, threadtype = background }");

    /// <summary>The dispatcher id of PMD <paramref name="pmd"/>'s thread.</summary>
    public static string DispatcherId(int pmd)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pmd);
        return $"{TemplatePath}-{pmd}";
    }

    /// <summary>Makes sure <paramref name="system"/> has the dispatcher of PMD <paramref name="pmd"/>'s thread, and returns its id.</summary>
    public static string Register(ActorSystem system, int pmd)
    {
        ArgumentNullException.ThrowIfNull(system);
        string id = DispatcherId(pmd);
        var dispatchers = system.Dispatchers;
        if (!dispatchers.HasDispatcher(id))
        {
            var config = ConfigurationFactory.ParseString($"id = \"{id}\"\nexecutor = fork-join-executor")
                .WithFallback(system.Settings.Config.GetConfig(TemplatePath) ?? Config.Empty)
                .WithFallback(Fallback)
                .WithFallback(dispatchers.DefaultDispatcherConfig);

            // Registering twice (two nodes of one system, a restart) keeps the first: same settings.
            dispatchers.RegisterConfigurator(id, new DispatcherConfigurator(config, dispatchers.Prerequisites));
        }

        return id;
    }
}
