namespace Datapath.Actions;

/// <summary>
/// The check a bypass flow runs right after its ct action (recirculation bypass, DESIGN.md). Actions
/// only carry it to the context (<see cref="IActionContext.Guard"/>); what it checks and what it
/// credits belong to the layer that builds bypass flows, so actions know nothing of caches.
/// </summary>
public interface IConntrackGuard
{
    /// <summary>The recirculation id a failing packet takes: the one the original flow's recirc action carried.</summary>
    uint FallbackRecircId { get; }
}
