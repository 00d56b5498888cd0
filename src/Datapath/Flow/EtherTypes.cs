namespace Datapath.Flow;

/// <summary>Ethernet types and IP protocol numbers the datapath understands.</summary>
public static class EtherTypes
{
    public const ushort Ipv4 = 0x0800;
    public const ushort Arp = 0x0806;
    public const ushort Vlan8021Q = 0x8100;
    public const ushort Vlan8021AD = 0x88a8;
    public const ushort Ipv6 = 0x86dd;

    /// <summary>Frames whose type/length field is below this are 802.3 (OVS: FLOW_DL_TYPE_NONE).</summary>
    public const ushort MinEthType = 0x0600;

    /// <summary>eth_type OVS reports for 802.3 frames without an Ethernet II type.</summary>
    public const ushort None = 0x05ff;
}

/// <summary>IP protocol numbers.</summary>
public static class IpProtocols
{
    public const byte HopByHop = 0;
    public const byte Icmp = 1;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Routing = 43;
    public const byte Fragment = 44;
    public const byte Icmpv6 = 58;
    public const byte NoNext = 59;
    public const byte DestinationOptions = 60;
    public const byte Sctp = 132;
}
