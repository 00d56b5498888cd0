using Datapath.Caches;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Bypass;

/// <summary><see cref="BypassMode.Off"/>: every hook does nothing, so every packet of an established connection recirculates.</summary>
public sealed class NoBypass : IRecirculationBypass
{
    public BypassMode Mode => BypassMode.Off;

    public int Count => 0;

    public int LookupBeforeEmc(ReadOnlySpan<Packet> packets, ReadOnlySpan<FlowKey> keys, ReadOnlySpan<uint> hashes, Span<Megaflow?> flows) => 0;

    public int LookupAfterEmc(ReadOnlySpan<FlowKey> keys, ReadOnlySpan<uint> hashes, Span<int> misses, int count, Span<Megaflow?> flows) => count;

    public void OnClassified(ReadOnlySpan<Packet> packets, ReadOnlySpan<Megaflow?> flows, ReadOnlySpan<FlowKey> keys)
    {
    }

    public void OnGuardFailed(Packet packet)
    {
    }

    public void OnMegaflowsRemoved()
    {
    }

    public int Revoke(in ConntrackKey connection, uint connectionHash) => 0;
}
