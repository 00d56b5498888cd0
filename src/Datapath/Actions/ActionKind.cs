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
}
