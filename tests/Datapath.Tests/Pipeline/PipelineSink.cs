using Datapath.Actions;
using Datapath.Packets;

namespace Datapath.Tests.Pipeline;

/// <summary>
/// The owner's side of a test pipeline: records what leaves the pipeline and, like a real owner,
/// returns every packet and batch it is given to the pools. With <see cref="Record"/> off it only
/// counts, so the allocation check measures the pipeline alone.
/// </summary>
internal sealed class PipelineSink(PacketPool packets, PacketBatchPool batches)
{
    public bool Record { get; set; } = true;

    /// <summary>Every output in the order the context saw it: the port and a copy of the frame.</summary>
    public List<(uint Port, byte[] Frame)> Outputs { get; } = [];

    public long OutputCount { get; private set; }

    public long PacketsReleased { get; private set; }

    public long BatchesReturned { get; private set; }

    public long PacketsRecirculated { get; private set; }

    public void Output(uint port, Packet packet)
    {
        OutputCount++;
        if (Record)
        {
            Outputs.Add((port, packet.Data.ToArray()));
        }
    }

    /// <summary>Takes a batch the executor is done with (or one handed over to conntrack or recirculation).</summary>
    public void Release(PacketBatch batch)
    {
        PacketsReleased += batch.Count;
        BatchesReturned++;
        packets.Return(batch);
        batches.Return(batch);
    }

    public void Recirculate(PacketBatch batch)
    {
        PacketsRecirculated += batch.Count;
        Release(batch);
    }

    public void Drop(Packet packet)
    {
        PacketsReleased++;
        packets.Return(packet);
    }
}

/// <summary>The struct context the pipeline is specialised for, forwarding to a <see cref="PipelineSink"/>.</summary>
internal readonly struct SinkContext(PipelineSink sink) : IActionContext
{
    public void Output(uint port, Packet packet) => sink.Output(port, packet);

    // Implemented here, not inherited: the interface's default body would box this struct.
    public void OutputLast(uint port, PacketBatch batch)
    {
        foreach (var packet in batch.Packets)
        {
            Output(port, packet);
        }

        Release(batch);
    }

    public void Conntrack(PacketBatch batch, in ConntrackArgs args, ActionList actions, int resumeAt) => sink.Release(batch);

    public void Recirculate(PacketBatch batch) => sink.Recirculate(batch);

    public void Userspace(Packet packet, uint cookie)
    {
    }

    public void Release(PacketBatch batch) => sink.Release(batch);

    public void Drop(Packet packet) => sink.Drop(packet);
}
