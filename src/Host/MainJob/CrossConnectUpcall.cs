using Datapath.Actions;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Pipeline;

namespace Host.MainJob;

/// <summary>
/// The main job's slow path until the OpenFlow tables land: a cross-connect that sends what
/// arrives on port 1 to port 2 and back. It looks only at recirc_id and in_port, so its
/// megaflows are `recirc_id(0),in_port(N)`, as Open vSwitch would install for `in_port=N actions=output:M`.
/// </summary>
internal sealed class CrossConnectUpcall : IUpcallHandler
{
    private readonly ActionList _toPort1 = new([DatapathAction.Output(1)]);
    private readonly ActionList _toPort2 = new([DatapathAction.Output(2)]);

    public long Upcalls { get; private set; }

    public bool Upcall(in FlowKey key, Packet packet, out FlowKey mask, out ActionList actions)
    {
        Upcalls++;
        mask = default;
        mask.RecircId = uint.MaxValue;
        mask.InPort = uint.MaxValue;
        switch (key.InPort)
        {
            case 1:
                actions = _toPort2;
                return true;
            case 2:
                actions = _toPort1;
                return true;
            default:
                actions = ActionList.Empty;
                return false;
        }
    }
}
