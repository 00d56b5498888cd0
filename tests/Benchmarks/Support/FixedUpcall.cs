using Datapath.Actions;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Upcalls;

namespace Benchmarks.Support;

/// <summary>A slow path that answers every packet with one mask and one action list, and counts its calls.</summary>
internal sealed class FixedUpcall : IUpcallHandler
{
    private readonly FlowKey _mask;
    private readonly ActionList _actions;

    public FixedUpcall(in FlowKey mask, ActionList actions)
    {
        _mask = mask;
        _actions = actions;
    }

    public int Calls { get; private set; }

    public bool Upcall(in FlowKey key, Packet packet, out FlowKey mask, out ActionList actions)
    {
        Calls++;
        mask = _mask;
        actions = _actions;
        return true;
    }
}
