namespace Datapath.Packets;

/// <summary>Where a packet comes from and goes back to when its last owner is done with it.</summary>
public interface IPacketPool
{
    bool TryRent(out Packet packet);

    void Return(Packet packet);
}
