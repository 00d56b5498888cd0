using Datapath.Caches;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Bypass;

/// <summary>
/// The recirculation bypass as the pipeline sees it (DESIGN.md): hooks at fixed points of a pass,
/// one implementation per <see cref="BypassMode"/>. Every hook takes a whole batch, so the pipeline
/// pays one interface call per batch and hook, never one per packet; the per-packet loops run inside
/// the sealed implementations. Owned by one PMD with its pipeline; not thread-safe.
/// </summary>
public interface IRecirculationBypass
{
    BypassMode Mode { get; }

    /// <summary>Bypass flows held now (for tests and dumps).</summary>
    int Count { get; }

    /// <summary>
    /// Before the EMC: finds bypass flows by exact key for the batch's first-pass packets, setting
    /// <paramref name="flows"/>[i] (null on entry) for each packet found, and counting the hits.
    /// </summary>
    /// <returns>The number of packets found.</returns>
    int LookupBeforeEmc(ReadOnlySpan<Packet> packets, ReadOnlySpan<FlowKey> keys, ReadOnlySpan<uint> hashes, Span<Megaflow?> flows);

    /// <summary>
    /// After an EMC miss, before the megaflow classifier: looks the misses up
    /// (<paramref name="misses"/>[0..<paramref name="count"/>) are packet positions), sets
    /// <paramref name="flows"/>[i] for each one found, and leaves the rest compacted at the front.
    /// </summary>
    /// <returns>The number of misses left.</returns>
    int LookupAfterEmc(ReadOnlySpan<FlowKey> keys, ReadOnlySpan<uint> hashes, Span<int> misses, int count, Span<Megaflow?> flows);

    /// <summary>
    /// The batch's packets have their flows (null for a failed upcall), before they are queued to
    /// them: a first pass notes a flow that ends in ct, recirc; a recirculated pass of such a packet
    /// may install a bypass flow for both passes.
    /// </summary>
    void OnClassified(ReadOnlySpan<Packet> packets, ReadOnlySpan<Megaflow?> flows, ReadOnlySpan<FlowKey> keys);

    /// <summary>A packet of a bypass flow failed its guard (it recirculates): the mode may drop that bypass flow.</summary>
    void OnGuardFailed(Packet packet);

    /// <summary>Revalidation removed megaflows (marked dead): the bypass flows built from them go.</summary>
    void OnMegaflowsRemoved();

    /// <summary>
    /// The conntrack owner of <paramref name="connection"/> says it left the established state (or
    /// the table): its bypass flows, both directions, go. Safe at any time: a packet already past the
    /// lookup keeps its actions, and its guard still decides.
    /// </summary>
    /// <returns>How many bypass flows were removed.</returns>
    int Revoke(in ConntrackKey connection, uint connectionHash);
}
