using Datapath.Actions;
using Datapath.Packets;

namespace Host.MainJob;

/// <summary>
/// The main job's ports on the transmit side: they count what the datapath sends and return
/// every packet and batch to their owner's pools. Conntrack and recirculation arrive with the
/// conntrack issue; the cross-connect never asks for them, so a request is counted as a drop.
/// </summary>
internal readonly struct SinkPorts(PacketPool packets, PacketBatchPool batches, PortCounters[] ports) : IActionContext
{
    public void Output(uint port, Packet packet)
    {
        if (port < ports.Length)
        {
            ports[port].TxPackets++;
            ports[port].TxBytes += packet.Length;
        }
    }

    public void Conntrack(PacketBatch batch, in ConntrackArgs args, ActionList actions, int resumeAt) => DropAll(batch);

    public void Recirculate(PacketBatch batch) => DropAll(batch);

    public void Userspace(Packet packet, uint cookie)
    {
    }

    public void Release(PacketBatch batch)
    {
        packets.Return(batch);
        batches.Return(batch);
    }

    public void Drop(Packet packet)
    {
        ports[0].Dropped++;
        packets.Return(packet);
    }

    private void DropAll(PacketBatch batch)
    {
        ports[0].Dropped += batch.Count;
        Release(batch);
    }
}

/// <summary>Counters of one port (index 0 collects what no port owns).</summary>
internal sealed class PortCounters
{
    public long RxPackets;
    public long RxBytes;
    public long TxPackets;
    public long TxBytes;
    public long Dropped;
}
