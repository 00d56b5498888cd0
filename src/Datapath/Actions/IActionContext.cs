using Datapath.Packets;

namespace Datapath.Actions;

/// <summary>
/// Where the actions that leave the packet-rewriting world go: ports, conntrack, recirculation,
/// userspace and the owner's pool (the analogue of dp_execute_cb in Open vSwitch's dpif-netdev.c).
/// Implemented by the PMD actor layer and by the pipeline; <see cref="ActionExecutor"/> takes it as a
/// generic argument so that a struct implementation is specialised by the JIT.
/// </summary>
public interface IActionContext
{
    /// <summary>
    /// Sends one packet to <paramref name="port"/>. The context copies the frame (into its transmit
    /// batch) and keeps no reference to <paramref name="packet"/>: the executor may change it afterwards.
    /// </summary>
    void Output(uint port, Packet packet);

    /// <summary>
    /// Takes ownership of <paramref name="batch"/> and sends it through conntrack. Conntrack answers
    /// asynchronously: the owner later sets each packet's ct metadata and calls
    /// <see cref="ActionExecutor.Execute{TContext}"/> again with the same <paramref name="actions"/>
    /// and <c>startAt</c> = <paramref name="resumeAt"/> (which may equal the list's count).
    /// </summary>
    void Conntrack(PacketBatch batch, in ConntrackArgs args, ActionList actions, int resumeAt);

    /// <summary>
    /// Takes ownership of <paramref name="batch"/> and feeds it back to flow extraction. The executor has
    /// already set each packet's <see cref="PacketMetadata.RecircId"/> and incremented
    /// <see cref="PacketMetadata.RecircDepth"/>; the context enforces the depth limit.
    /// </summary>
    void Recirculate(PacketBatch batch);

    /// <summary>Sends one packet to the userspace handler; like <see cref="Output"/>, keeps no reference to it.</summary>
    void Userspace(Packet packet, uint cookie);

    /// <summary>
    /// The executor is done with every packet of <paramref name="batch"/> (after a drop action or at the
    /// end of the list): the owner returns them to its pool and may reuse the batch.
    /// </summary>
    void Release(PacketBatch batch);

    /// <summary>
    /// The executor dropped one packet that it could not process (a VLAN push without headroom) and
    /// removed it from its batch: the owner returns it to its pool.
    /// </summary>
    void Drop(Packet packet);

    /// <summary>
    /// The list's last action outputs <paramref name="batch"/> to <paramref name="port"/>: nothing
    /// touches the packets afterwards, so the context may send the packets themselves instead of
    /// copies (dp_netdev's may_steal). It takes ownership of the batch, as <see cref="Release"/> does.
    /// </summary>
    void OutputLast(uint port, PacketBatch batch)
    {
        foreach (var packet in batch.Packets)
        {
            Output(port, packet);
        }

        Release(batch);
    }

    /// <summary>
    /// Takes ownership of <paramref name="batch"/> and runs a bypass flow's guard (recirculation
    /// bypass) on each packet: one that passes continues with <paramref name="actions"/> from
    /// <paramref name="resumeAt"/>; one that fails recirculates with the guard's fallback id, as the
    /// original flow would have sent it. The context keeps the packets' order across both. Only
    /// contexts that install bypass flows need it.
    /// </summary>
    void Guard(PacketBatch batch, IConntrackGuard guard, ActionList actions, int resumeAt) =>
        throw new NotSupportedException("This action context runs no bypass flows.");
}
