using Datapath.Caches;
using Datapath.Stats;
using Datapath.Upcalls;

namespace Datapath.Pipeline;

/// <summary>
/// Revalidation and statistics of the PMD's megaflows (the analogue of Open vSwitch's revalidator
/// pass over the datapath flows, ofproto-dpif-upcall.c revalidate, run here by the owning PMD
/// between batches instead of by separate threads).
/// </summary>
public sealed partial class PmdPipeline
{
    // Reused by every pass: the classifier cannot change while it is enumerated.
    private readonly List<Megaflow> _sweep = [];
    private readonly List<Megaflow> _recheck = [];

    public RevalidationStats RevalidationStats { get; } = new();

    /// <summary>
    /// Checks every installed megaflow and removes, before the next batch, each one that was idle
    /// for at least <paramref name="idleMs"/> or that <paramref name="revalidator"/> says would no
    /// longer translate the same. A removed megaflow is marked dead first, so EMC entries pointing
    /// at it miss at once; then the revalidator pushes its last statistics and releases it.
    /// Call between batches only.
    /// </summary>
    /// <param name="nowMs">The owner's clock, in the unit of <see cref="MegaflowStats.UsedMs"/>.</param>
    public RevalidationResult Revalidate(IFlowRevalidator revalidator, long nowMs, long idleMs)
    {
        ArgumentNullException.ThrowIfNull(revalidator);
        Snapshot(_sweep);
        int judged = 0, changed = 0, idle = 0;
        _recheck.Clear();
        foreach (var flow in _sweep)
        {
            if (nowMs - flow.Stats.UsedMs >= idleMs)
            {
                Uninstall(flow, revalidator);
                idle++;
                continue;
            }

            judged++;
            if (!revalidator.Revalidate(flow))
            {
                Uninstall(flow, revalidator);
                changed++;
            }
            else if (flow.Key.RecircId != 0)
            {
                _recheck.Add(flow);
            }
        }

        // Removing a megaflow may free the recirculation ids it held, which makes kept megaflows
        // matching those ids unreachable now and wrong once the id is reused: ask again about the
        // recirculated ones until a round removes nothing (each round follows one recirculation level).
        int removedLastRound = changed + idle;
        while (removedLastRound > 0 && _recheck.Count > 0)
        {
            removedLastRound = 0;
            int kept = 0;
            for (int i = 0; i < _recheck.Count; i++)
            {
                var flow = _recheck[i];
                if (revalidator.Revalidate(flow))
                {
                    _recheck[kept++] = flow;
                    continue;
                }

                Uninstall(flow, revalidator);
                changed++;
                removedLastRound++;
            }

            _recheck.RemoveRange(kept, _recheck.Count - kept);
        }

        _sweep.Clear();
        _recheck.Clear();
        if (changed + idle > 0)
        {
            _bypass.OnMegaflowsRemoved();
        }

        var result = new RevalidationResult(judged, judged - changed, changed, idle);
        RevalidationStats.Add(in result);
        return result;
    }

    /// <summary>Credits every installed megaflow's traffic since the last push (dump-flows reads the rules' counters).</summary>
    public void PushStatistics(IFlowRevalidator revalidator)
    {
        ArgumentNullException.ThrowIfNull(revalidator);
        foreach (var flow in _classifier.Flows)
        {
            revalidator.PushStatistics(flow);
        }

        RevalidationStats.StatisticsPushes++;
    }

    private void Snapshot(List<Megaflow> into)
    {
        into.Clear();
        foreach (var flow in _classifier.Flows)
        {
            into.Add(flow);
        }
    }

    private void Uninstall(Megaflow flow, IFlowRevalidator revalidator)
    {
        _classifier.Remove(flow);
        flow.MarkDead();
        revalidator.Uninstalled(flow);
    }
}
