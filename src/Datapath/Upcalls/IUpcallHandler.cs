using Datapath.Actions;
using Datapath.Caches;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Upcalls;

/// <summary>
/// The slow path a PMD asks when a packet matches no megaflow (the analogue of an upcall to
/// ofproto-dpif's translation). It returns the actions for this packet and a mask that covers
/// only the fields that decided them, so the installed megaflow serves every packet that would
/// translate identically.
/// </summary>
public interface IUpcallHandler
{
    /// <returns>False when no actions can be produced; the pipeline drops the packet and counts a failed upcall.</returns>
    bool Upcall(in FlowKey key, Packet packet, out FlowKey mask, out ActionList actions);

    /// <summary>
    /// <see cref="Upcall(in FlowKey, Packet, out FlowKey, out ActionList)"/>, plus what the handler
    /// wants remembered with the megaflow (<see cref="Megaflow.Origin"/>) for revalidation and
    /// statistics. The pipeline calls this one; a handler that remembers nothing need not implement it.
    /// </summary>
    bool Upcall(in FlowKey key, Packet packet, out FlowKey mask, out ActionList actions, out MegaflowOrigin? origin)
    {
        origin = null;
        return Upcall(in key, packet, out mask, out actions);
    }
}
