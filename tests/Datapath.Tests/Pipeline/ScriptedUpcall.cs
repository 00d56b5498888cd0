using Datapath.Actions;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Upcalls;

namespace Datapath.Tests.Pipeline;

/// <summary>An upcall handler whose answer the test sets, and which records every key it is asked about.</summary>
internal sealed class ScriptedUpcall : IUpcallHandler
{
    public ScriptedUpcall(in FlowKey mask, ActionList actions)
    {
        Mask = mask;
        Actions = actions;
    }

    public FlowKey Mask { get; set; }

    public ActionList Actions { get; set; }

    /// <summary>False makes every upcall fail.</summary>
    public bool Succeeds { get; set; } = true;

    public List<FlowKey> Calls { get; } = [];

    public bool Upcall(in FlowKey key, Packet packet, out FlowKey mask, out ActionList actions)
    {
        Calls.Add(key);
        mask = Mask;
        actions = Actions;
        return Succeeds;
    }

    /// <summary>A mask that looks at recirc_id and in_port, as a cross-connect's translation would.</summary>
    public static FlowKey PortMask()
    {
        var mask = default(FlowKey);
        mask.RecircId = uint.MaxValue;
        mask.InPort = uint.MaxValue;
        return mask;
    }

    /// <summary><see cref="PortMask"/> plus the transport source port, so each source port gets its own megaflow.</summary>
    public static FlowKey PortAndSourcePortMask()
    {
        var mask = PortMask();
        mask.EthType = ushort.MaxValue;
        mask.NwProto = byte.MaxValue;
        mask.TpSrc = ushort.MaxValue;
        return mask;
    }
}
