using Datapath.Packets;

namespace Datapath.Pipeline;

/// <summary>Where a datapath's transmitted packets go (a port's transmit side, or a verdict recorder).</summary>
public interface IPacketSink
{
    /// <summary>Sends <paramref name="packet"/> out of <paramref name="port"/>; keeps no reference to it.</summary>
    void Transmit(uint port, Packet packet);
}
