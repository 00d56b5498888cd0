using System.Net;
using System.Net.NetworkInformation;
using Datapath.Flow;
using Datapath.Packets;
using PacketDotNet;
using PacketDotNet.Ndp;
using PdnPacket = PacketDotNet.Packet;

namespace Datapath.Tests.Flow;

/// <summary>
/// The flow key a frame should get, built from PacketDotNet's independent parse of the bytes
/// (test code only). The field values come from PacketDotNet; the rules of which fields a packet
/// has (later fragments have no L4, ND only for code 0, ARP only for Ethernet/IPv4, ...) are
/// Open vSwitch's. Valid frames only: PacketDotNet does not model where OVS stops on bad ones.
/// PacketDotNet 1.4.8 reads every IPv6 extension header at offset 40, so only frames with at most
/// one extension header can be checked against it.
/// </summary>
internal static class PacketDotNetFlowKey
{
    public readonly record struct Expected(FlowKey Key, int L3Offset, int L4Offset);

    public static Expected From(byte[] frame, in PacketMetadata metadata)
    {
        var key = default(FlowKey);
        key.InPort = metadata.InPort;
        key.RecircId = metadata.RecircId;
        key.CtState = metadata.CtState;
        key.CtZone = metadata.CtZone;
        key.CtMark = metadata.CtMark;
        key.CtLabel = metadata.CtLabel;

        var eth = (EthernetPacket)PdnPacket.ParsePacket(LinkLayers.Ethernet, frame);
        key.EthDst = Mac(eth.DestinationHardwareAddress);
        key.EthSrc = Mac(eth.SourceHardwareAddress);
        ushort type = (ushort)eth.Type;
        PdnPacket? payload = eth.PayloadPacket;
        int l3 = eth.HeaderSegment.Offset + eth.HeaderSegment.Length;
        int tags = 0;
        while (payload is Ieee8021QPacket tag)
        {
            ushort tci = (ushort)(((int)tag.PriorityControlPoint << 13) | FlowKey.VlanPresent | tag.VlanIdentifier);
            if (tags == 0)
            {
                key.Vlan0Tpid = type;
                key.Vlan0Tci = tci;
            }
            else
            {
                key.Vlan1Tpid = type;
                key.Vlan1Tci = tci;
            }

            tags++;
            type = (ushort)tag.Type;
            l3 = tag.HeaderSegment.Offset + tag.HeaderSegment.Length;
            payload = tag.PayloadPacket;
        }

        key.EthType = type;
        int l4 = -1;
        switch (payload)
        {
            case ArpPacket arp:
                FillArp(arp, ref key);
                break;
            case IPv4Packet ip:
                l4 = FillIpv4(ip, ref key);
                break;
            case IPv6Packet ip:
                l4 = FillIpv6(ip, ref key);
                break;
        }

        return new Expected(key, l3, l4);
    }

    public static ulong Mac(PhysicalAddress address) => FlowKey.ReadMac(address.GetAddressBytes());

    public static uint Ipv4(IPAddress address) => (uint)IPAddress.NetworkToHostOrder(BitConverter.ToInt32(address.GetAddressBytes()));

    public static UInt128 Ipv6(IPAddress address) => FlowKey.ReadIpv6(address.GetAddressBytes());

    private static void FillArp(ArpPacket arp, ref FlowKey key)
    {
        if (arp.HardwareAddressType != LinkLayers.Ethernet || arp.ProtocolAddressType != EthernetType.IPv4
            || arp.HardwareAddressLength != 6 || arp.ProtocolAddressLength != 4)
        {
            return;
        }

        if ((int)arp.Operation <= byte.MaxValue)
        {
            key.ArpOp = (byte)arp.Operation;
        }

        key.NwSrc = Ipv4(arp.SenderProtocolAddress);
        key.NwDst = Ipv4(arp.TargetProtocolAddress);
        key.ArpSha = Mac(arp.SenderHardwareAddress);
        key.ArpTha = Mac(arp.TargetHardwareAddress);
    }

    private static int FillIpv4(IPv4Packet ip, ref FlowKey key)
    {
        key.NwSrc = Ipv4(ip.SourceAddress);
        key.NwDst = Ipv4(ip.DestinationAddress);
        key.NwTos = (byte)ip.TypeOfService;
        key.NwTtl = (byte)ip.TimeToLive;
        key.NwProto = (byte)ip.Protocol;
        bool moreFragments = (ip.FragmentFlags & 1) != 0;
        if (moreFragments || ip.FragmentOffset != 0)
        {
            key.NwFrag = FlowKey.FragAny;
        }

        if (ip.FragmentOffset != 0)
        {
            key.NwFrag |= FlowKey.FragLater;
            return -1;
        }

        FillTransport(ip.PayloadPacket, ref key);
        return ip.HeaderSegment.Offset + ip.HeaderSegment.Length;
    }

    private static int FillIpv6(IPv6Packet ip, ref FlowKey key)
    {
        key.Ipv6Src = Ipv6(ip.SourceAddress);
        key.Ipv6Dst = Ipv6(ip.DestinationAddress);
        key.Ipv6Label = (uint)ip.FlowLabel;
        key.NwTos = (byte)ip.TrafficClass;
        key.NwTtl = (byte)ip.HopLimit;
        key.NwProto = (byte)ip.Protocol;
        foreach (var header in ip.ExtensionHeaders)
        {
            if (header is IPv6FragmentationExtensionHeader fragment && (fragment.More || fragment.FragmentOffset != 0))
            {
                key.NwFrag = FlowKey.FragAny;
                if (fragment.FragmentOffset != 0)
                {
                    key.NwFrag |= FlowKey.FragLater;
                    key.NwProto = IpProtocols.Fragment;
                    return -1;
                }
            }
        }

        FillTransport(ip.PayloadPacket, ref key);
        return ip.HeaderSegment.Offset + ip.HeaderSegment.Length;
    }

    private static void FillTransport(PdnPacket? l4, ref FlowKey key)
    {
        switch (l4)
        {
            case TcpPacket tcp:
                key.TpSrc = tcp.SourcePort;
                key.TpDst = tcp.DestinationPort;
                key.TcpFlags = (ushort)(tcp.Flags & 0x0FFF);
                break;
            case UdpPacket udp:
                key.TpSrc = udp.SourcePort;
                key.TpDst = udp.DestinationPort;
                break;
            case IcmpV4Packet icmp:
                key.IcmpType = (byte)((ushort)icmp.TypeCode >> 8);
                key.IcmpCode = (byte)(ushort)icmp.TypeCode;
                break;
            case IcmpV6Packet icmp:
                key.IcmpType = (byte)icmp.Type;
                key.IcmpCode = icmp.Code;
                if (icmp.Code == 0)
                {
                    FillNeighborDiscovery(icmp.PayloadPacket, ref key);
                }

                break;
        }
    }

    private static void FillNeighborDiscovery(PdnPacket? nd, ref FlowKey key)
    {
        IPAddress target;
        List<NdpOption> options;
        if (nd is NdpNeighborSolicitationPacket ns)
        {
            (target, options) = (ns.TargetAddress, ns.OptionsCollection);
        }
        else if (nd is NdpNeighborAdvertisementPacket na)
        {
            (target, options) = (na.TargetAddress, na.OptionsCollection);
        }
        else
        {
            return;
        }

        key.NdTarget = Ipv6(target);
        foreach (var option in options)
        {
            if (option is NdpLinkLayerAddressOption lla && option.Length == 1)
            {
                if (option.Type == OptionTypes.SourceLinkLayerAddress)
                {
                    key.ArpSha = Mac(lla.LinkLayerAddress);
                }
                else if (option.Type == OptionTypes.TargetLinkLayerAddress)
                {
                    key.ArpTha = Mac(lla.LinkLayerAddress);
                }
            }
        }
    }
}
