namespace Datapath.Conntrack.Nat;

/// <summary>What a ct action's translation does to its packet.</summary>
public enum NatRewriteKind : byte
{
    /// <summary>Nothing: the connection is not translated, or the packet was translated in this zone already.</summary>
    None,

    /// <summary>The packet's own headers: one address and, for TCP and UDP, both ports.</summary>
    Packet,

    /// <summary>
    /// An ICMP or ICMPv6 error related to a translated connection: one address of the outer header,
    /// the opposite address and both ports of the quoted packet, and the ICMP checksum.
    /// </summary>
    IcmpError,
}

/// <summary>
/// A translation to apply to a packet when its conntrack answer comes back (OVS nat_packet and
/// nat_inner_packet, which rewrite the packet inside conntrack; here conntrack may run in another
/// actor, so it answers with what to write). <see cref="Src"/>, <see cref="Dst"/>,
/// <see cref="SrcPort"/> and <see cref="DstPort"/> are the tuple the packet shows afterwards, in its
/// direction of travel: the reverse of the connection's reply tuple in the original direction, the
/// reverse of the original tuple in the reply direction. Only the translated side's address is
/// written (<see cref="Source"/>), and ports only for TCP and UDP. For an ICMP error they describe
/// the error's outer header; its quoted packet travels the other way and takes their reverse.
/// A plain value.
/// </summary>
public struct NatRewrite
{
    public NatRewriteKind Kind;

    /// <summary>The source address is rewritten (else the destination).</summary>
    public bool Source;

    public bool IsIpv6;

    /// <summary>The connection's protocol (for an ICMP error, the quoted packet's).</summary>
    public byte Protocol;

    public ushort SrcPort;
    public ushort DstPort;
    public UInt128 Src;
    public UInt128 Dst;

    public readonly bool IsNone => Kind == NatRewriteKind.None;

    /// <summary>The rewrite that makes a packet of <paramref name="kind"/> show <paramref name="tuple"/>.</summary>
    internal static NatRewrite To(in ConntrackKey tuple, bool source, bool related) => new()
    {
        Kind = related ? NatRewriteKind.IcmpError : NatRewriteKind.Packet,
        Source = source,
        IsIpv6 = tuple.IsIpv6,
        Protocol = tuple.Protocol,
        Src = tuple.Src,
        Dst = tuple.Dst,
        SrcPort = tuple.SrcPort,
        DstPort = tuple.DstPort,
    };
}
