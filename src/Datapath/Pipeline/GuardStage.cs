using Datapath.Actions;
using Datapath.Bypass;
using Datapath.Packets;
using Datapath.Stats;

namespace Datapath.Pipeline;

/// <summary>
/// Runs a bypass flow's guard (<see cref="CtGuard"/>) on the packets its ct action answered:
/// passing packets are credited to the recirculated megaflow and continue after the guard; failing
/// ones recirculate with the fallback id, as the original flow would have sent them, and the bypass
/// is told (it may drop that bypass flow). Both are queued in runs, in order, behind the work in
/// progress, as the recirculated passes they stand for would be.
/// </summary>
internal sealed class GuardStage(IRecirculationBypass bypass, PmdStats stats, ExecutionStats execution, RecirculationQueue queue, PacketBatchPool batches, PmdClock clock)
{
    public void Run(PacketBatch batch, IConntrackGuard guard, ActionList actions, int resumeAt)
    {
        // Only the bypass builds guards; one cast per batch keeps the per-packet check a sealed call.
        var ct = (CtGuard)guard;
        long nowMs = clock.NowMs;
        if (AllPass(batch, ct, nowMs))
        {
            // The common case (established connections): the batch continues as it is, one run.
            queue.Continue(batch, actions, resumeAt);
            return;
        }

        PacketBatch? run = null;
        bool runPasses = false;
        foreach (var packet in batch.Packets)
        {
            bool passes = ct.Passes(in packet.Metadata);
            if (passes)
            {
                ct.Recirculated.Stats.Add(packet.Length, packet.PassTcpFlags, nowMs);
            }
            else
            {
                Fallback(packet, ct);
            }

            if (run is not null && runPasses != passes)
            {
                Queue(run, runPasses, actions, resumeAt);
                run = null;
            }

            run ??= batches.Rent();
            runPasses = passes;
            run.Add(packet);
        }

        if (run is not null)
        {
            Queue(run, runPasses, actions, resumeAt);
        }

        batch.Clear();
        batches.Return(batch);
    }

    /// <summary>True, with the recirculated megaflow credited once for the whole batch, when every packet passes.</summary>
    private static bool AllPass(PacketBatch batch, CtGuard guard, long nowMs)
    {
        long bytes = 0;
        ushort tcpFlags = 0;
        foreach (var packet in batch.Packets)
        {
            if (!guard.Passes(in packet.Metadata))
            {
                return false;
            }

            bytes += packet.Length;
            tcpFlags |= packet.PassTcpFlags;
        }

        guard.Recirculated.Stats.Add(batch.Count, bytes, tcpFlags, nowMs);
        return true;
    }

    private void Fallback(Packet packet, CtGuard guard)
    {
        stats.BypassGuardFallbacks++;
        bypass.OnGuardFailed(packet);
        packet.Metadata.RecircId = guard.FallbackRecircId;
        packet.Metadata.RecircDepth++;
        execution.PacketsRecirculated++;
    }

    private void Queue(PacketBatch run, bool passed, ActionList actions, int resumeAt)
    {
        if (passed)
        {
            queue.Continue(run, actions, resumeAt);
        }
        else
        {
            queue.Recirculate(run);
        }
    }
}
