namespace Datapath.Conntrack;

/// <summary>
/// A connection's original-direction tuple as Open vSwitch exposes it in packet metadata
/// (ct_nw_src, ct_nw_dst, ct_nw_proto, ct_tp_src, ct_tp_dst; struct ovs_key_ct_tuple_ipv4/6):
/// for ICMP and ICMPv6 the "ports" are the ICMP type and code of the original direction.
/// All zero when the packet matched no connection and had no parsable tuple.
/// </summary>
public readonly record struct ConntrackTuple(UInt128 Src, UInt128 Dst, ushort SrcPort, ushort DstPort, byte Protocol, bool IsIpv6)
{
    /// <summary>The tuple OVS's write_ct_md_key derives from a key.</summary>
    public static ConntrackTuple FromKey(in ConntrackKey key) => key.IsIcmp
        ? new ConntrackTuple(key.Src, key.Dst, key.SrcIcmpType, 0, key.Protocol, key.IsIpv6)
        : new ConntrackTuple(key.Src, key.Dst, key.SrcPort, key.DstPort, key.Protocol, key.IsIpv6);
}
