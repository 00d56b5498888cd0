using Datapath.Conntrack;

namespace Datapath.Bypass;

/// <summary>
/// Told when the per-connection bypass installs a bypass flow, so that the connection's conntrack
/// owner watches the connection and revokes its bypass flows when it leaves the established state
/// (<see cref="IRecirculationBypass.Revoke"/>). One that never revokes is still safe: the guard
/// decides each packet, and the flow lives until its guard fails or its megaflows die.
/// </summary>
public interface IBypassFlowWatcher
{
    void Watch(in ConntrackKey connection, uint connectionHash);
}
