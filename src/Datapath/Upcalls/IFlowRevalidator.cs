using Datapath.Caches;

namespace Datapath.Upcalls;

/// <summary>
/// The slow path's half of revalidation (the analogue of what ofproto-dpif-upcall's revalidator
/// threads ask of translation: revalidate_ukey and the statistics push). The PMD walks its
/// megaflows and asks; the implementation judges and credits, using <see cref="Megaflow.Origin"/>.
/// Called only by the megaflows' owner, between batches.
/// </summary>
public interface IFlowRevalidator
{
    /// <summary>Credits the traffic <paramref name="flow"/> carried since the last push to whatever it was made from.</summary>
    void PushStatistics(Megaflow flow);

    /// <summary>
    /// Pushes <paramref name="flow"/>'s statistics, then answers whether it would still be installed
    /// exactly as it is (same actions, same mask) if translated now. False uninstalls it.
    /// </summary>
    bool Revalidate(Megaflow flow);

    /// <summary>
    /// <paramref name="flow"/> was removed from the classifier and marked dead: push its last
    /// statistics and release what it holds (recirculation ids). Called once per megaflow.
    /// </summary>
    void Uninstalled(Megaflow flow);
}
