namespace Datapath.Packets;

/// <summary>Where a packet comes from and goes back to when its last owner is done with it.</summary>
public interface IPacketPool
{
    bool TryRent(out Packet packet);

    void Return(Packet packet);

    /// <summary>True when any thread may return packets to this pool (so a packet may be handed to another owner).</summary>
    bool IsThreadSafe => false;
}
