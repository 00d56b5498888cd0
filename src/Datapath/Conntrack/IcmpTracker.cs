namespace Datapath.Conntrack;

/// <summary>ICMP pseudo-states (OVS enum icmp_state).</summary>
internal enum IcmpState : byte
{
    First,
    Reply,
}

/// <summary>
/// ICMP and ICMPv6 echo-style exchanges (the analogue of lib/conntrack-icmp.c): only a request
/// opens a connection; it stays new until the reply, then est. Errors never reach this tracker:
/// they are related to the connection they quote.
/// </summary>
internal readonly struct IcmpTracker : IProtocolTracker
{
    public static bool ValidNew(in ConntrackInput input) => IcmpKeys.IsRequest(in input.Key);

    public static TimeoutClass Create(ref ConnectionEntry entry, in ConntrackInput input)
    {
        entry.L4State = (byte)IcmpState.First;
        return TimeoutClass.IcmpFirst;
    }

    public static UpdateResult Update(ref ConnectionEntry entry, in ConntrackInput input, bool reply, out TimeoutClass refresh, out bool renew)
    {
        var result = UpdateResult.Valid;
        if (reply)
        {
            entry.L4State = (byte)IcmpState.Reply;
        }
        else if (entry.L4State == (byte)IcmpState.First)
        {
            result = UpdateResult.ValidNew;
        }

        refresh = entry.L4State == (byte)IcmpState.Reply ? TimeoutClass.IcmpReply : TimeoutClass.IcmpFirst;
        renew = true;
        return result;
    }
}
