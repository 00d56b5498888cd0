using Datapath.Actions;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Pipeline;

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
}
