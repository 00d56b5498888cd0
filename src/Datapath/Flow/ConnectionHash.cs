using System.Buffers.Binary;

namespace Datapath.Flow;

/// <summary>
/// Hashes over a key's connection tuple: a direction-independent one for conntrack sharding and
/// the NICs' direction-sensitive RSS hash for queue selection.
/// </summary>
public static class ConnectionHash
{
    private const ulong SymmetricSeed = 0xC2B2_AE3D_27D4_EB4FUL;
    private const ulong Ipv6Tag = 1UL << 32;
    private const ulong NonIpTag = 1UL << 33;

    /// <summary>
    /// A hash of (ct_zone, nw_proto, both endpoints) that is the same for both directions of a
    /// connection, so both find the same conntrack shard (the role of OVS's symmetric conn_key_hash).
    ///
    /// Inputs: IPv4 or IPv6 addresses; tp_src/tp_dst for TCP, UDP and SCTP; no ports for anything
    /// else. ICMP is hashed on addresses only: the key holds type and code, not the echo id, and
    /// request and reply types differ, so ports would split a ping across shards. Fragments are
    /// hashed without ports so that every fragment of a datagram meets in one shard (later
    /// fragments have none); hash the reassembled datagram to find its connection. Non-IP keys hash
    /// on (zone, eth_type).
    /// </summary>
    public static uint SymmetricHash(in FlowKey key)
    {
        bool ports = HasPorts(in key);
        ushort sport = ports ? key.TpSrc : (ushort)0;
        ushort dport = ports ? key.TpDst : (ushort)0;
        if (key.IsIpv4)
        {
            return SymmetricHash(key.CtZone, key.NwProto, key.NwSrc, sport, key.NwDst, dport);
        }

        if (key.IsIpv6)
        {
            return SymmetricHash(key.CtZone, key.NwProto, key.Ipv6Src, sport, key.Ipv6Dst, dport);
        }

        ulong h = FlowHash.Add(SymmetricSeed, NonIpTag | ((ulong)key.CtZone << 16) | key.EthType);
        return FlowHash.Finish(h);
    }

    /// <summary>
    /// The symmetric hash of an explicit IPv4 tuple (for tuples that are not a packet's key, such as
    /// the header quoted by an ICMP error). Swapping the endpoints gives the same value.
    /// </summary>
    public static uint SymmetricHash(ushort zone, byte proto, uint addressA, ushort portA, uint addressB, ushort portB)
    {
        ulong a = ((ulong)addressA << 16) | portA;
        ulong b = ((ulong)addressB << 16) | portB;
        ulong h = FlowHash.Add(SymmetricSeed, ((ulong)zone << 8) | proto);
        h = FlowHash.Add(h, Math.Min(a, b));
        h = FlowHash.Add(h, Math.Max(a, b));
        return FlowHash.Finish(h);
    }

    /// <summary>The symmetric hash of an explicit IPv6 tuple. Swapping the endpoints gives the same value.</summary>
    public static uint SymmetricHash(ushort zone, byte proto, UInt128 addressA, ushort portA, UInt128 addressB, ushort portB)
    {
        if (addressA > addressB || (addressA == addressB && portA > portB))
        {
            (addressA, addressB) = (addressB, addressA);
            (portA, portB) = (portB, portA);
        }

        ulong h = FlowHash.Add(SymmetricSeed, Ipv6Tag | ((ulong)zone << 8) | proto);
        h = FlowHash.Add(h, (ulong)(addressA >> 64));
        h = FlowHash.Add(h, (ulong)addressA);
        h = FlowHash.Add(h, (ulong)(addressB >> 64));
        h = FlowHash.Add(h, (ulong)addressB);
        h = FlowHash.Add(h, ((ulong)portA << 16) | portB);
        return FlowHash.Finish(h);
    }

    /// <summary>
    /// The Toeplitz RSS hash with Microsoft's default key, as a NIC computes it: over source address,
    /// destination address, source port, destination port (all in network order) for non-fragmented
    /// TCP and UDP, and over the two addresses for other IP traffic and for every fragment (so all
    /// fragments of a datagram reach one queue). Zero for non-IP frames, which NICs do not hash.
    /// </summary>
    public static uint RssHash(in FlowKey key)
    {
        Span<byte> input = stackalloc byte[36];
        int length;
        if (key.IsIpv4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(input, key.NwSrc);
            BinaryPrimitives.WriteUInt32BigEndian(input[4..], key.NwDst);
            length = 8;
        }
        else if (key.IsIpv6)
        {
            BinaryPrimitives.WriteUInt128BigEndian(input, key.Ipv6Src);
            BinaryPrimitives.WriteUInt128BigEndian(input[16..], key.Ipv6Dst);
            length = 32;
        }
        else
        {
            return 0;
        }

        if (key.NwFrag == 0 && key.NwProto is IpProtocols.Tcp or IpProtocols.Udp)
        {
            BinaryPrimitives.WriteUInt16BigEndian(input[length..], key.TpSrc);
            BinaryPrimitives.WriteUInt16BigEndian(input[(length + 2)..], key.TpDst);
            length += 4;
        }

        return Toeplitz.Hash(input[..length]);
    }

    private static bool HasPorts(in FlowKey key) =>
        key.NwFrag == 0 && key.NwProto is IpProtocols.Tcp or IpProtocols.Udp or IpProtocols.Sctp;
}
