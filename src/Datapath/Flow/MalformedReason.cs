namespace Datapath.Flow;

/// <summary>
/// Why flow extraction stopped before the end of a frame's headers (one counter each in
/// <see cref="ExtractionStats"/>). Every stop matches a point where Open vSwitch's
/// miniflow_extract gives up; the fields of deeper layers stay zero.
/// </summary>
public enum MalformedReason
{
    /// <summary>Fewer than 14 bytes: no Ethernet header, only metadata is extracted.</summary>
    TruncatedEthernet,

    /// <summary>A VLAN TPID without 4 more bytes of tag and ethertype: eth_type is the TPID.</summary>
    TruncatedVlan,

    /// <summary>A third VLAN tag: as in OVS (two tags at most), eth_type is its TPID and parsing stops.</summary>
    TooManyVlans,

    /// <summary>ARP frame shorter than the 28-byte Ethernet/IPv4 ARP body.</summary>
    TruncatedArp,

    /// <summary>Fewer bytes than the IPv4 header (20, or IHL words) or than its total length.</summary>
    TruncatedIpv4,

    /// <summary>IPv4 IHL below 5 words.</summary>
    BadIpv4HeaderLength,

    /// <summary>IPv4 total length shorter than the header.</summary>
    BadIpv4TotalLength,

    /// <summary>Fewer bytes than the 40-byte IPv6 header plus its payload length.</summary>
    TruncatedIpv6,

    /// <summary>An IPv6 extension header runs past the payload; addresses and label are kept, nothing else.</summary>
    BadIpv6Extension,

    /// <summary>More than 255 bytes follow the IP datagram (OVS refuses such L2 padding).</summary>
    ExcessPadding,

    /// <summary>Fewer than 20 bytes of TCP header.</summary>
    TruncatedTcp,

    /// <summary>
    /// TCP data offset below 5 words or past the datagram. Counted only: OVS still takes ports and
    /// flags from such a segment (conntrack is the one that rejects it), so the key keeps them.
    /// </summary>
    BadTcpOffset,

    /// <summary>Fewer than 8 bytes of UDP header.</summary>
    TruncatedUdp,

    /// <summary>Fewer than 12 bytes of SCTP common header.</summary>
    TruncatedSctp,

    /// <summary>Fewer than 8 bytes of ICMP header.</summary>
    TruncatedIcmp,

    /// <summary>Fewer than 8 bytes of IGMP header.</summary>
    TruncatedIgmp,

    /// <summary>Fewer than 8 bytes of ICMPv6 header.</summary>
    TruncatedIcmpv6,

    /// <summary>Neighbour solicitation/advertisement without its 16-byte target: type and code only.</summary>
    TruncatedNdTarget,

    /// <summary>
    /// ND option of length 0 or running past the message (parsing stops, what was read is kept), or a
    /// repeated link-layer address option (OVS clears target, sll and tll).
    /// </summary>
    BadNdOptions,
}
