namespace Datapath.OpenFlow.Syntax;

/// <summary>What a match must already say before a field may be matched or set (Open vSwitch's enum mf_prereqs).</summary>
public enum FieldPrerequisite : byte
{
    None,
    Ipv4,
    Ipv6,
    IpAny,
    Arp,
    Ipv4OrArp,
    Tcp,
    Udp,
    Sctp,
    TcpUdpSctp,
    Icmp,
    NeighborDiscovery,
    NeighborSolicit,
    NeighborAdvert,

    /// <summary>
    /// A valid conntrack entry (OVS MFP_CT_VALID, "CT"): the match requires one of ct_state's +new,
    /// +est, +rel, +rpl, +snat or +dnat, or +trk with -inv.
    /// </summary>
    Conntrack,
}

/// <summary>How a field's values are written (Open vSwitch's enum mf_string).</summary>
public enum FieldSyntax : byte
{
    Decimal,
    Hexadecimal,
    Mac,
    Ipv4,
    Ipv6,
    CtState,
    TcpFlags,
    Frag,
}
