using System.Runtime.CompilerServices;

namespace Datapath.Conntrack;

/// <summary>
/// The lookup key of one direction of a connection (the analogue of Open vSwitch's struct conn_key):
/// zone, address family, addresses, protocol, and ports or the ICMP echo id and types.
/// IPv4 addresses sit in the low 32 bits of <see cref="Src"/> and <see cref="Dst"/>.
///
/// For ICMP echo-style messages both ports hold the echo id, <see cref="SrcIcmpType"/> the packet's
/// type and <see cref="DstIcmpType"/> the type of the answer, so a reply's key is the request's
/// <see cref="Reverse"/>. Other protocols leave the ICMP types zero; protocols without ports leave
/// the ports zero. A plain value: safe to copy, compare and send.
/// </summary>
public struct ConntrackKey : IEquatable<ConntrackKey>
{
    public UInt128 Src;
    public UInt128 Dst;
    public ushort SrcPort;
    public ushort DstPort;
    public byte SrcIcmpType;
    public byte DstIcmpType;
    public byte Protocol;
    public bool IsIpv6;
    public ushort Zone;

    /// <summary>The key of the other direction: endpoints and ICMP types swapped.</summary>
    public readonly ConntrackKey Reverse()
    {
        var r = this;
        r.Src = Dst;
        r.Dst = Src;
        r.SrcPort = DstPort;
        r.DstPort = SrcPort;
        r.SrcIcmpType = DstIcmpType;
        r.DstIcmpType = SrcIcmpType;
        return r;
    }

    /// <summary>True when <paramref name="a"/> is the reverse of <paramref name="b"/> (without building it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsReverseOf(in ConntrackKey a, in ConntrackKey b) =>
        a.Src == b.Dst && a.Dst == b.Src
        && a.SrcPort == b.DstPort && a.DstPort == b.SrcPort
        && a.SrcIcmpType == b.DstIcmpType && a.DstIcmpType == b.SrcIcmpType
        && a.Protocol == b.Protocol && a.IsIpv6 == b.IsIpv6 && a.Zone == b.Zone;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Equals(in ConntrackKey a, in ConntrackKey b) =>
        a.Src == b.Src && a.Dst == b.Dst
        && a.SrcPort == b.SrcPort && a.DstPort == b.DstPort
        && a.SrcIcmpType == b.SrcIcmpType && a.DstIcmpType == b.DstIcmpType
        && a.Protocol == b.Protocol && a.IsIpv6 == b.IsIpv6 && a.Zone == b.Zone;

    public readonly bool Equals(ConntrackKey other) => Equals(in this, in other);

    public override readonly bool Equals(object? obj) => obj is ConntrackKey other && Equals(in this, in other);

    public override readonly int GetHashCode() => HashCode.Combine(Src, Dst, SrcPort, DstPort, Protocol, Zone);

    public static bool operator ==(ConntrackKey left, ConntrackKey right) => Equals(in left, in right);

    public static bool operator !=(ConntrackKey left, ConntrackKey right) => !Equals(in left, in right);

    /// <summary>True for ICMP (IPv4) and ICMPv6 keys, whose "ports" are the echo id.</summary>
    public readonly bool IsIcmp => IsIpv6 ? Protocol == IcmpV6 : Protocol == Icmp;

    private const byte Icmp = 1;
    private const byte IcmpV6 = 58;
}
