using Datapath.Bypass;
using Datapath.Pipeline;

namespace Actors.Pmd;

/// <summary>
/// What one PMD actor is configured with (HOCON `datapath`, read and validated by the Host): the
/// options of the <see cref="PmdCore"/> it drives, as they are (the inline reference runs the same
/// ones), and what the actor itself does around it. No defaults here: the embedded datapath.conf
/// holds them, once.
/// </summary>
public sealed record PmdSettings
{
    /// <summary>The PMD's packet processing: caches, recirculation, the recirculation bypass, its packet pool.</summary>
    public required PmdCoreOptions Core { get; init; }

    /// <summary>datapath.revalidate-interval: how often statistics are pushed to the rules and idle megaflows expire.</summary>
    public required TimeSpan RevalidateInterval { get; init; }

    /// <summary>datapath.conntrack-direct-routes: send to conntrack shard actors directly once their references are known (the region keeps ownership).</summary>
    public required bool DirectConntrackRoutes { get; init; }

    /// <summary>datapath.conntrack-answer-timeout: a conntrack batch unanswered this long is given up (its shard stopped or restarted): its packets are dropped and counted.</summary>
    public required TimeSpan ConntrackAnswerTimeout { get; init; }

    /// <summary>datapath.pmd-dedicated-threads: each PMD actor runs on a thread of its own (<see cref="PmdThreads"/>), shared with the port actors that feed only its queues, instead of the shared pool.</summary>
    public required bool DedicatedThreads { get; init; }

    /// <summary>
    /// datapath.pmd-cpu-mask (Open vSwitch's pmd-cpu-mask): with dedicated threads, PMD i's thread
    /// runs on <c>Cpus[i]</c> only (a CPU per PMD, ascending; CPUs past the PMDs are left unused).
    /// Empty: the kernel places the threads. Why pin: on a shared machine the CPUs are not equal (on
    /// this project's VM one vCPU ran the same PMD 30 % slower than the other for minutes at a time),
    /// and a thread the kernel moves takes its caches' contents nowhere.
    /// </summary>
    public required IReadOnlyList<int> Cpus { get; init; }

    /// <summary>
    /// The clock is the time the batches carry and nothing else (a capture's replay: reassembly
    /// follows the capture alone, as on the inline datapath, never the wall time spent between two
    /// frames). Off (the default for live ports): the latest batch's time moved on by the
    /// scheduler's time since, so that fragments still expire while no batch comes.
    /// </summary>
    public bool FrameClock { get; init; }
}
