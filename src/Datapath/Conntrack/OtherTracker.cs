namespace Datapath.Conntrack;

/// <summary>UDP and other protocols' pseudo-states (OVS enum other_state).</summary>
internal enum OtherState : byte
{
    First,
    Multiple,
    Bidirectional,
}

/// <summary>
/// UDP and every protocol without its own tracker (the analogue of lib/conntrack-other.c): a
/// connection is first, then multiple (more packets one way), then bidirectional once a reply is
/// seen. Packets stay new until a reply is seen, as the design and the Linux kernel say: OVS only
/// answers new for the second packet and est from the third without any reply (see the report).
/// </summary>
internal readonly struct OtherTracker : IProtocolTracker
{
    public static bool ValidNew(in ConntrackInput input) => true;

    public static TimeoutClass Create(ref ConnectionEntry entry, in ConntrackInput input)
    {
        entry.L4State = (byte)OtherState.First;
        return TimeoutClass.OtherFirst;
    }

    public static UpdateResult Update(ref ConnectionEntry entry, in ConntrackInput input, bool reply, out TimeoutClass refresh, out bool renew)
    {
        var state = (OtherState)entry.L4State;
        var result = UpdateResult.Valid;
        if (reply)
        {
            state = OtherState.Bidirectional;
        }
        else if (state != OtherState.Bidirectional)
        {
            state = OtherState.Multiple;
            result = UpdateResult.ValidNew;
        }

        entry.L4State = (byte)state;
        refresh = state switch
        {
            OtherState.First => TimeoutClass.OtherFirst,
            OtherState.Multiple => TimeoutClass.OtherMultiple,
            _ => TimeoutClass.OtherBidirectional,
        };
        renew = true;
        return result;
    }
}
