using Actors.Wire;
using Datapath.Conntrack;

namespace Actors.Conntrack;

// The recirculation bypass between its owners (DESIGN.md): a PMD that built a per-connection bypass
// flow tells the connection's shard, which tells it back when the connection leaves the established
// state or the table. Both cross nodes, so they are wire messages.

/// <summary>
/// A PMD (the sender) installed a bypass flow for <paramref name="Key"/>: the shard watches the
/// connection and answers <see cref="BypassFlowsRevoked"/> when it leaves the established state (at
/// once if it already has, or is unknown).
/// </summary>
/// <param name="ShardHash">The connection's symmetric hash (<see cref="ConntrackInput.ShardHash"/>).</param>
public sealed record BypassFlowInstalled(ConntrackKey Key, uint ShardHash) : IWireMessage;

/// <summary>
/// These connections left the established state (FIN, RST, invalid, a commit that changed mark or
/// label) or the table (expiry, flush): the PMD drops their bypass flows, both directions.
/// </summary>
public sealed record BypassFlowsRevoked(int Shard, ConntrackKey[] Keys, uint[] ShardHashes) : IWireMessage;
