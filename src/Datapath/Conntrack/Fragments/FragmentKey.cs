namespace Datapath.Conntrack.Fragments;

/// <summary>
/// What identifies the fragments of one datagram (RFC 791: source, destination, protocol,
/// identification; RFC 8200: source, destination, identification), plus the conntrack zone, as
/// OVS's struct ipf_list_key.
/// </summary>
internal readonly record struct FragmentKey(UInt128 Src, UInt128 Dst, uint Id, byte Protocol, bool IsIpv6, ushort Zone);
