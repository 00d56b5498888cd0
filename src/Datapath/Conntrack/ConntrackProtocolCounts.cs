using Datapath.Flow;

namespace Datapath.Conntrack;

/// <summary>
/// Connections per protocol (and TCP per state), what ct-stats-show prints
/// (<see cref="DpctlConntrack.StatsShow(ConntrackProtocolCounts, bool)"/>): counted per table and
/// added up over the shards of a sharded tracker.
/// </summary>
public sealed record ConntrackProtocolCounts
{
    public int Total { get; init; }

    public int Tcp { get; init; }

    public int Udp { get; init; }

    public int Icmp { get; init; }

    public int Sctp { get; init; }

    public int UdpLite { get; init; }

    public int Dccp { get; init; }

    public int Igmp { get; init; }

    public int Other { get; init; }

    /// <summary>TCP connections per coalesced state, indexed by <see cref="TcpState"/>.</summary>
    public int[] TcpStates { get; init; } = new int[Enum.GetValues<TcpState>().Length];

    /// <summary>Counts <paramref name="entries"/> as Open vSwitch's ct-stats-show does (ICMPv6 is in the total only).</summary>
    public static ConntrackProtocolCounts Of(IEnumerable<ConnectionSnapshot> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        int total = 0, tcp = 0, udp = 0, icmp = 0, sctp = 0, udplite = 0, dccp = 0, igmp = 0, other = 0;
        var perState = new int[Enum.GetValues<TcpState>().Length];
        foreach (var entry in entries)
        {
            total++;
            switch (entry.Key.Protocol)
            {
                case IpProtocols.Icmp:
                    icmp++;
                    break;
                case IpProtocols.Icmpv6:
                    // Counted by Open vSwitch and never printed.
                    break;
                case IpProtocols.Tcp:
                    tcp++;
                    perState[(int)ConntrackFormatter.CoalesceTcpState(entry.TcpOrigState, entry.TcpReplyState)]++;
                    break;
                case IpProtocols.Udp:
                    udp++;
                    break;
                case IpProtocols.Sctp:
                    sctp++;
                    break;
                case 136:
                    udplite++;
                    break;
                case 33:
                    dccp++;
                    break;
                case 2:
                    igmp++;
                    break;
                default:
                    other++;
                    break;
            }
        }

        return new ConntrackProtocolCounts
        {
            Total = total, Tcp = tcp, Udp = udp, Icmp = icmp, Sctp = sctp, UdpLite = udplite, Dccp = dccp, Igmp = igmp, Other = other, TcpStates = perState,
        };
    }

    /// <summary>The sum of two tables' counts.</summary>
    public ConntrackProtocolCounts Add(ConntrackProtocolCounts other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var states = new int[Math.Max(TcpStates.Length, other.TcpStates.Length)];
        for (int i = 0; i < states.Length; i++)
        {
            states[i] = (i < TcpStates.Length ? TcpStates[i] : 0) + (i < other.TcpStates.Length ? other.TcpStates[i] : 0);
        }

        return new ConntrackProtocolCounts
        {
            Total = Total + other.Total, Tcp = Tcp + other.Tcp, Udp = Udp + other.Udp, Icmp = Icmp + other.Icmp, Sctp = Sctp + other.Sctp,
            UdpLite = UdpLite + other.UdpLite, Dccp = Dccp + other.Dccp, Igmp = Igmp + other.Igmp, Other = Other + other.Other, TcpStates = states,
        };
    }
}
