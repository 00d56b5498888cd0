namespace Datapath.Actions;

/// <summary>
/// Counters of one action executor's owner (one PMD), in packets unless named otherwise. Every way a
/// packet stops here has its own counter, as Open vSwitch's drop reasons do. Not thread-safe: one owner.
/// </summary>
public sealed class ExecutionStats
{
    /// <summary>Calls to <see cref="ActionExecutor.Execute{TContext}"/>, first runs and resumptions alike.</summary>
    public long Executions { get; internal set; }

    /// <summary>Packet copies sent to ports (a packet output to two ports counts twice).</summary>
    public long PacketsOutput { get; internal set; }

    /// <summary>
    /// Packets whose pipeline ended without sending them anywhere: an explicit drop, an empty action
    /// list (a table miss, a flow with no actions), or a list with no output (Open vSwitch counts
    /// all of these as drop_action_of_pipeline).
    /// </summary>
    public long PacketsDropped { get; internal set; }

    /// <summary>Packets whose pipeline ended after at least one output (or the userspace action): each counted once however many copies it sent.</summary>
    public long PacketsSent { get; internal set; }

    /// <summary>Packets handed to conntrack.</summary>
    public long PacketsToConntrack { get; internal set; }

    /// <summary>Packets handed back for recirculation.</summary>
    public long PacketsRecirculated { get; internal set; }

    /// <summary>Packet copies sent to the userspace handler.</summary>
    public long PacketsToUserspace { get; internal set; }

    /// <summary>Packets released at the end of an action list (or by a drop action).</summary>
    public long PacketsReleased { get; internal set; }

    /// <summary>Set-field actions left undone on a packet because the field's layer is absent or truncated.</summary>
    public long SetFieldSkipped { get; internal set; }

    /// <summary>Pop-VLAN actions on a packet that had no tag.</summary>
    public long VlanPopSkipped { get; internal set; }

    /// <summary>Packets dropped because a VLAN push found no headroom left.</summary>
    public long PacketsDroppedNoHeadroom { get; internal set; }

    /// <summary>Zeroes every counter.</summary>
    public void Reset()
    {
        Executions = 0;
        PacketsOutput = 0;
        PacketsDropped = 0;
        PacketsSent = 0;
        PacketsToConntrack = 0;
        PacketsRecirculated = 0;
        PacketsToUserspace = 0;
        PacketsReleased = 0;
        SetFieldSkipped = 0;
        VlanPopSkipped = 0;
        PacketsDroppedNoHeadroom = 0;
    }
}
