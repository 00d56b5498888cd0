using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Tests.OpenFlow;

/// <summary>Datapath keys of the firewall's traffic (hosts of the captures README).</summary>
internal static class Packets
{
    public const ulong H1 = 0x02_00_00_00_00_01;
    public const ulong H2 = 0x02_00_00_00_00_02;

    public static FlowKey Tcp(uint inPort, uint src, uint dst, ushort sport, ushort dport, CtState ct = CtState.None, uint recirc = 0)
    {
        var k = default(FlowKey);
        k.InPort = inPort;
        k.RecircId = recirc;
        k.CtState = ct;
        k.EthSrc = inPort == 1 ? H1 : H2;
        k.EthDst = inPort == 1 ? H2 : H1;
        k.EthType = EtherTypes.Ipv4;
        k.NwProto = IpProtocols.Tcp;
        k.NwTtl = 64;
        k.NwSrc = src;
        k.NwDst = dst;
        k.TpSrc = sport;
        k.TpDst = dport;
        k.TcpFlags = 0x10;
        return k;
    }

    public static FlowKey Arp(uint inPort, ulong src, ulong dst)
    {
        var k = default(FlowKey);
        k.InPort = inPort;
        k.EthSrc = src;
        k.EthDst = dst;
        k.EthType = EtherTypes.Arp;
        k.ArpOp = 1;
        k.ArpSha = src;
        k.NwSrc = 0x0A000001;
        k.NwDst = 0x0A000002;
        return k;
    }
}
