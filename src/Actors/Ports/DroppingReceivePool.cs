using Datapath.Packets;

namespace Actors.Ports;

/// <summary>
/// A port's receive pool as a NIC's receive ring sees it: a frame that arrives when no buffer is
/// free is lost. Renting never fails; when the pool is empty it hands out <see cref="Spare"/>, a
/// scratch packet the owner recognises after the fill, counts as a drop and never forwards.
/// </summary>
internal sealed class DroppingReceivePool(ConcurrentPacketPool pool, int packetCapacity) : IPacketPool
{
    public ConcurrentPacketPool Pool { get; } = pool;

    /// <summary>Stands for every frame that found the pool empty; not owned by any pool.</summary>
    public Packet Spare { get; } = new(packetCapacity);

    public bool TryRent(out Packet packet)
    {
        if (!Pool.TryRent(out packet))
        {
            packet = Spare;
        }

        return true;
    }

    public void Return(Packet packet)
    {
        if (!ReferenceEquals(packet, Spare))
        {
            Pool.Return(packet);
        }
    }
}
