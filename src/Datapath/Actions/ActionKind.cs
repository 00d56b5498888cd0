namespace Datapath.Actions;

/// <summary>The datapath actions (the analogue of OVS_ACTION_ATTR_*).</summary>
public enum ActionKind : byte
{
    Output,
    Drop,
    Conntrack,
    Recirculate,
    SetField,
    PushVlan,
    PopVlan,
    Userspace,

    /// <summary>
    /// Recirculation bypass: after a bypass flow's ct action, packets whose new conntrack fields
    /// fail the guard leave the batch and recirculate as the original flow would have; the rest go on.
    /// Never produced by translation; only bypass flows carry it.
    /// </summary>
    CtGuard,

    /// <summary>ct_clear: the packet forgets its conntrack fields (OVS_ACTION_ATTR_CT_CLEAR).</summary>
    CtClear,
}
