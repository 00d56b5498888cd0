using System.Globalization;
using System.Text;
using Datapath.Flow;

namespace Datapath.Tests.Flow;

/// <summary>Compares flow keys field by field so that a failure names the fields that differ.</summary>
internal static class FlowKeyAssert
{
    public static void Equal(in FlowKey expected, in FlowKey actual, string? context = null)
    {
        string e = Describe(expected);
        string a = Describe(actual);
        if (e != a)
        {
            Assert.Fail($"{context}\nexpected:\n{e}\nactual:\n{a}");
        }

        Assert.True(FlowKey.Equals(in expected, in actual), $"{context}: keys differ outside the named fields");
    }

    public static string Describe(in FlowKey k)
    {
        var s = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        s.AppendLine(c, $"in_port={k.InPort} recirc_id={k.RecircId} ct_state={k.CtState} ct_zone={k.CtZone} ct_mark={k.CtMark} ct_label={k.CtLabel:x}");
        s.AppendLine(c, $"eth_dst={k.EthDst:x12} eth_src={k.EthSrc:x12} eth_type={k.EthType:x4}");
        s.AppendLine(c, $"vlan0={k.Vlan0Tpid:x4}/{k.Vlan0Tci:x4} vlan1={k.Vlan1Tpid:x4}/{k.Vlan1Tci:x4}");
        s.AppendLine(c, $"nw_proto={k.NwProto} nw_tos={k.NwTos} nw_ttl={k.NwTtl} nw_frag={k.NwFrag} ipv6_label={k.Ipv6Label:x5}");
        s.AppendLine(c, $"nw_src={k.NwSrc:x8} nw_dst={k.NwDst:x8} ipv6_src={k.Ipv6Src:x32} ipv6_dst={k.Ipv6Dst:x32}");
        s.AppendLine(c, $"tp_src={k.TpSrc} tp_dst={k.TpDst} tcp_flags={k.TcpFlags:x3}");
        s.AppendLine(c, $"arp_sha={k.ArpSha:x12} arp_tha={k.ArpTha:x12} nd_target={k.NdTarget:x32}");
        return s.ToString();
    }
}
