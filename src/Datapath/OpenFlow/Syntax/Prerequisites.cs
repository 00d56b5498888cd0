using Datapath.Flow;

namespace Datapath.OpenFlow.Syntax;

/// <summary>Prerequisite checks on a match's value and mask (Open vSwitch's mf_are_match_prereqs_ok).</summary>
internal static class Prerequisites
{
    private const ushort Rarp = 0x8035;

    public static bool Satisfied(FieldPrerequisite prerequisite, in OfFlow value, in OfFlow mask)
    {
        bool typeKnown = mask.Key.EthType == ushort.MaxValue;
        ushort type = typeKnown ? value.Key.EthType : (ushort)0;
        bool v4 = type == EtherTypes.Ipv4;
        bool v6 = type == EtherTypes.Ipv6;
        bool protoKnown = mask.Key.NwProto == byte.MaxValue;
        int proto = protoKnown ? value.Key.NwProto : -1;
        return prerequisite switch
        {
            FieldPrerequisite.None => true,
            FieldPrerequisite.Ipv4 => v4,
            FieldPrerequisite.Ipv6 => v6,
            FieldPrerequisite.IpAny => v4 || v6,
            FieldPrerequisite.Arp => type is EtherTypes.Arp or Rarp,
            FieldPrerequisite.Ipv4OrArp => v4 || type is EtherTypes.Arp or Rarp,
            FieldPrerequisite.Tcp => (v4 || v6) && proto == IpProtocols.Tcp,
            FieldPrerequisite.Udp => (v4 || v6) && proto == IpProtocols.Udp,
            FieldPrerequisite.Sctp => (v4 || v6) && proto == IpProtocols.Sctp,
            FieldPrerequisite.TcpUdpSctp => (v4 || v6) && proto is IpProtocols.Tcp or IpProtocols.Udp or IpProtocols.Sctp,
            FieldPrerequisite.Icmp => (v4 && proto == IpProtocols.Icmp) || (v6 && proto == IpProtocols.Icmpv6),
            FieldPrerequisite.NeighborDiscovery => IsNd(in value, in mask, v6, proto, 135) || IsNd(in value, in mask, v6, proto, 136),
            FieldPrerequisite.NeighborSolicit => IsNd(in value, in mask, v6, proto, 135),
            FieldPrerequisite.NeighborAdvert => IsNd(in value, in mask, v6, proto, 136),
            FieldPrerequisite.Conntrack => IsConntrackValid(in value, in mask),
            _ => false,
        };
    }

    public static string Describe(FieldPrerequisite prerequisite) => prerequisite switch
    {
        FieldPrerequisite.Ipv4 => "ip",
        FieldPrerequisite.Ipv6 => "ipv6",
        FieldPrerequisite.IpAny => "ip or ipv6",
        FieldPrerequisite.Arp => "arp",
        FieldPrerequisite.Ipv4OrArp => "ip or arp",
        FieldPrerequisite.Tcp => "tcp or tcp6",
        FieldPrerequisite.Udp => "udp or udp6",
        FieldPrerequisite.Sctp => "sctp or sctp6",
        FieldPrerequisite.TcpUdpSctp => "tcp, udp or sctp (or tcp6, udp6, sctp6)",
        FieldPrerequisite.Icmp => "icmp or icmp6",
        FieldPrerequisite.NeighborDiscovery => "icmp6 with icmp_type=135 or icmp_type=136",
        FieldPrerequisite.NeighborSolicit => "icmp6 with icmp_type=135",
        FieldPrerequisite.NeighborAdvert => "icmp6 with icmp_type=136",
        FieldPrerequisite.Conntrack => "ct_state with +new, +est, +rel, +rpl, +snat or +dnat, or +trk-inv",
        _ => "nothing",
    };

    /// <summary>is_ct_valid for a match: a state bit that implies a valid entry, or an explicit +trk-inv.</summary>
    private static bool IsConntrackValid(in OfFlow value, in OfFlow mask)
    {
        var state = value.Key.CtState & mask.Key.CtState;
        const Packets.CtState valid = Packets.CtState.New | Packets.CtState.Established | Packets.CtState.Related
            | Packets.CtState.Reply | Packets.CtState.SrcNat | Packets.CtState.DstNat;
        return (state & valid) != 0
            || ((state & Packets.CtState.Tracked) != 0 && (mask.Key.CtState & Packets.CtState.Invalid) != 0 && (value.Key.CtState & Packets.CtState.Invalid) == 0);
    }

    private static bool IsNd(in OfFlow value, in OfFlow mask, bool v6, int proto, int type) =>
        v6 && proto == IpProtocols.Icmpv6 && mask.Key.TpSrc == ushort.MaxValue && value.Key.TpSrc == type
        && (value.Key.TpDst & mask.Key.TpDst) == 0;
}
