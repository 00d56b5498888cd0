using Datapath.Packets;

namespace Datapath.Pipeline;

/// <summary>Where a datapath's transmitted packets go (a port's transmit side, or a verdict recorder).</summary>
public interface IPacketSink
{
    /// <summary>Sends <paramref name="packet"/> out of <paramref name="port"/>; keeps no reference to it.</summary>
    void Transmit(uint port, Packet packet);

    /// <summary>
    /// Sends <paramref name="packet"/> itself out of <paramref name="port"/> (no copy) and becomes its
    /// owner, returning it to its pool when sent; false when this sink cannot (then nothing happened).
    /// Only for a packet nothing will touch again, from a pool any thread may return to.
    /// </summary>
    bool TryTake(uint port, Packet packet) => false;

    /// <summary>
    /// The datapath's userspace action (OpenFlow's controller action): <paramref name="cookie"/> names
    /// what the slow path attached; like <see cref="Transmit"/>, keeps no reference to the packet.
    /// </summary>
    void Userspace(Packet packet, uint cookie)
    {
    }
}
