using System.Runtime.CompilerServices;
using Datapath.Packets;

namespace Datapath.Actions;

/// <summary>
/// Runs a flow's datapath actions on a batch (Open vSwitch's odp_execute_actions with dpif-netdev's
/// dp_execute_cb as the context). Allocation-free; owns the batch from the call until it hands the
/// batch over (conntrack, recirculation) or releases it.
/// </summary>
public static class ActionExecutor
{
    /// <summary>
    /// Applies <paramref name="actions"/> from index <paramref name="startAt"/> on, each to every packet
    /// of <paramref name="batch"/> in order (all packets belong to one flow). Output and userspace
    /// send every packet and go on; drop ends the list; conntrack hands the batch over and returns
    /// (the owner resumes at the next index); recirculate stamps the id, increments the depth, hands
    /// the batch over and returns. When the list ends otherwise, or the batch is (or becomes) empty,
    /// the batch is released, and each packet counted once: sent (it met an output) or dropped.
    /// </summary>
    /// <param name="startAt">0 for a fresh batch, or the <c>resumeAt</c> given to <see cref="IActionContext.Conntrack"/>.</param>
    public static void Execute<TContext>(PacketBatch batch, ActionList actions, int startAt, ref TContext ctx, ExecutionStats stats)
        where TContext : IActionContext
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(actions);
        ArgumentNullException.ThrowIfNull(stats);
        if ((uint)startAt > (uint)actions.Count)
        {
            ThrowStartAt(startAt, actions.Count);
        }

        stats.Executions++;
        ReadOnlySpan<DatapathAction> list = actions.Actions;
        for (int i = startAt; i < list.Length && batch.Count > 0; i++)
        {
            ref readonly DatapathAction action = ref list[i];
            switch (action.Kind)
            {
                case ActionKind.Output:
                    if (i == list.Length - 1)
                    {
                        stats.PacketsOutput += batch.Count;
                        stats.PacketsSent += batch.Count;
                        stats.PacketsReleased += batch.Count;
                        ctx.OutputLast(action.Port, batch);
                        return;
                    }

                    Output(batch, action.Port, ref ctx, stats);
                    break;

                case ActionKind.Drop:
                    Release(batch, ref ctx, stats);
                    return;

                case ActionKind.Conntrack:
                    stats.PacketsToConntrack += batch.Count;
                    ctx.Conntrack(batch, action.Ct, actions, i + 1);
                    return;

                case ActionKind.Recirculate:
                    Recirculate(batch, action.RecircId, ref ctx, stats);
                    return;

                case ActionKind.SetField:
                    SetField(batch, action.Set, stats);
                    break;

                case ActionKind.PushVlan:
                    PushVlan(batch, action.VlanTpid, action.VlanTci, ref ctx, stats);
                    break;

                case ActionKind.PopVlan:
                    PopVlan(batch, stats);
                    break;

                case ActionKind.Userspace:
                    Userspace(batch, action.UserspaceCookie, ref ctx, stats);
                    break;

                case ActionKind.CtGuard:
                    ctx.Guard(batch, action.Guard!, actions, i + 1);
                    return;

                case ActionKind.CtClear:
                    foreach (Packet packet in batch.Packets)
                    {
                        packet.Metadata.ClearConntrack();
                    }

                    break;

                default:
                    ThrowUnknownKind(action.Kind);
                    break;
            }
        }

        Release(batch, ref ctx, stats);
    }

    private static void Output<TContext>(PacketBatch batch, uint port, ref TContext ctx, ExecutionStats stats)
        where TContext : IActionContext
    {
        foreach (Packet packet in batch.Packets)
        {
            packet.Transmitted = true;
            ctx.Output(port, packet);
        }

        stats.PacketsOutput += batch.Count;
    }

    private static void Userspace<TContext>(PacketBatch batch, uint cookie, ref TContext ctx, ExecutionStats stats)
        where TContext : IActionContext
    {
        foreach (Packet packet in batch.Packets)
        {
            packet.Transmitted = true;
            ctx.Userspace(packet, cookie);
        }

        stats.PacketsToUserspace += batch.Count;
    }

    private static void Recirculate<TContext>(PacketBatch batch, uint recircId, ref TContext ctx, ExecutionStats stats)
        where TContext : IActionContext
    {
        foreach (Packet packet in batch.Packets)
        {
            packet.Metadata.RecircId = recircId;

            // Saturate rather than wrap, so that the context's depth limit always sees the truth.
            if (packet.Metadata.RecircDepth < byte.MaxValue)
            {
                packet.Metadata.RecircDepth++;
            }
        }

        stats.PacketsRecirculated += batch.Count;
        ctx.Recirculate(batch);
    }

    private static void SetField(PacketBatch batch, in SetFieldArgs args, ExecutionStats stats)
    {
        foreach (Packet packet in batch.Packets)
        {
            if (!SetFieldAction.Apply(packet, args))
            {
                stats.SetFieldSkipped++;
            }
        }
    }

    private static void PushVlan<TContext>(PacketBatch batch, ushort tpid, ushort tci, ref TContext ctx, ExecutionStats stats)
        where TContext : IActionContext
    {
        int count = batch.Count;
        for (int i = 0; i < count; i++)
        {
            if (!VlanAction.Push(batch[i], tpid, tci))
            {
                PushVlanOrDrop(batch, i, tpid, tci, ref ctx, stats);
                return;
            }
        }
    }

    /// <summary>
    /// A packet that cannot take its tag must not leave untagged (it would cross into the wrong
    /// VLAN): drop it, tag the rest, and compact the batch keeping arrival order.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void PushVlanOrDrop<TContext>(PacketBatch batch, int firstFailed, ushort tpid, ushort tci, ref TContext ctx, ExecutionStats stats)
        where TContext : IActionContext
    {
        int kept = firstFailed;
        for (int i = firstFailed; i < batch.Count; i++)
        {
            Packet packet = batch[i];
            if (i > firstFailed && VlanAction.Push(packet, tpid, tci))
            {
                batch.Set(kept++, packet);
            }
            else
            {
                ctx.Drop(packet);
                stats.PacketsDroppedNoHeadroom++;
            }
        }

        batch.Truncate(kept);
    }

    private static void PopVlan(PacketBatch batch, ExecutionStats stats)
    {
        foreach (Packet packet in batch.Packets)
        {
            if (!VlanAction.Pop(packet))
            {
                stats.VlanPopSkipped++;
            }
        }
    }

    /// <summary>The pipeline ends here: each packet was sent (an earlier output) or is dropped (counted as Open vSwitch's drop_action_of_pipeline).</summary>
    private static void Release<TContext>(PacketBatch batch, ref TContext ctx, ExecutionStats stats)
        where TContext : IActionContext
    {
        int sent = 0;
        foreach (Packet packet in batch.Packets)
        {
            sent += packet.Transmitted ? 1 : 0;
        }

        stats.PacketsSent += sent;
        stats.PacketsDropped += batch.Count - sent;
        stats.PacketsReleased += batch.Count;
        ctx.Release(batch);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowStartAt(int startAt, int count) =>
        throw new ArgumentOutOfRangeException(nameof(startAt), startAt, $"Must be within 0..{count}.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowUnknownKind(ActionKind kind) =>
        throw new InvalidOperationException($"Unknown datapath action {kind}.");
}
