using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Datapath.Conntrack;

public sealed partial class ConnectionTable
{
    // Below this many inputs there is nothing to overlap.
    private const int PrefetchMinimum = 4;

    /// <summary>
    /// Asks the cache for what a batch's lookups will read, before the first of them runs (as DPDK's
    /// rte_hash_lookup_bulk and VPP's graph nodes do): a lookup waits on two dependent loads, its
    /// bucket's head and then the slot the head names (a slot spans three cache lines), so each
    /// packet stalled twice in turn. Asked for in two sweeps, every bucket line first and then every
    /// head slot's lines, the misses of the whole batch overlap instead of adding up. Hand-written
    /// because it is the hot path; a prefetch never faults, so an address the collector has since
    /// moved costs nothing but the hint. No-op where the CPU has no SSE prefetch.
    /// </summary>
    private unsafe void Prefetch(ReadOnlySpan<ConntrackInput> inputs)
    {
        if (!Sse.IsSupported || inputs.Length < PrefetchMinimum)
        {
            return;
        }

        var buckets = _buckets;
        foreach (ref readonly var input in inputs)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref buckets[BucketOf(input.ShardHash)]));
        }

        var entries = _entries;
        foreach (ref readonly var input in inputs)
        {
            int slot = buckets[BucketOf(input.ShardHash)];
            if ((uint)slot < (uint)entries.Length)
            {
                byte* first = (byte*)Unsafe.AsPointer(ref entries[slot]);
                Sse.Prefetch0(first);
                Sse.Prefetch0(first + 64);
                Sse.Prefetch0(first + Unsafe.SizeOf<ConnectionEntry>() - 1);
            }
        }
    }
}
