using Datapath.Actions;
using Datapath.Packets;

namespace Datapath.Pipeline;

/// <summary>
/// Work queued behind the call in progress, in order: recirculated passes (within the depth limit),
/// and batches that continue an action list (a bypass flow's packets that passed their guard wait
/// their turn, so that no packet overtakes one that arrived before it and recirculated). The core
/// runs it when its outermost call unwinds, because the pipeline's scratch belongs to one batch at a
/// time (Open vSwitch recurses instead, with scratch on the stack).
/// </summary>
internal sealed class RecirculationQueue(int maxDepth, PmdPackets packets, PmdCoreStats stats)
{
    private readonly Queue<Work> _queued = new();

    public int Count => _queued.Count;

    /// <summary>Queues a recirculated pass; packets past the depth limit are dropped and counted.</summary>
    public void Recirculate(PacketBatch batch)
    {
        int kept = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            var packet = batch[i];
            if (packet.Metadata.RecircDepth > maxDepth)
            {
                stats.RecirculationDepthExceeded++;
                packets.Recycle(packet);
                continue;
            }

            batch.Set(kept++, packet);
        }

        batch.Truncate(kept);
        _queued.Enqueue(new Work(batch, null, 0));
    }

    /// <summary>Queues a batch that continues <paramref name="actions"/> from <paramref name="resumeAt"/>.</summary>
    public void Continue(PacketBatch batch, ActionList actions, int resumeAt) => _queued.Enqueue(new Work(batch, actions, resumeAt));

    public bool TryDequeue(out Work work) => _queued.TryDequeue(out work);
}

/// <summary>A batch waiting its turn: a pipeline pass (no actions), or actions to continue from an index.</summary>
internal readonly record struct Work(PacketBatch Batch, ActionList? Actions, int ResumeAt);
