namespace Datapath.Flow;

/// <summary>
/// Direction-independent hashes over a key's connection tuple: with the zone (a connection's identity)
/// and without it (where a connection lives: its receive queue and its conntrack shard).
/// </summary>
public static class ConnectionHash
{
    private const ulong SymmetricSeed = 0xC2B2_AE3D_27D4_EB4FUL;
    private const ulong Ipv6Tag = 1UL << 32;
    private const ulong NonIpTag = 1UL << 33;
    private const ulong Ipv4Secret = 0x8EBC_6AF0_9C88_C6E3UL;

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
        // Every packet pays this once (its conntrack shard): the lower and the higher endpoint, each
        // 48 bits with the zone or the protocol above, folded by one 64x64->128 multiply (as the EMC
        // hash does) and finished, instead of a chain of three mixing rounds.
        ulong a = ((ulong)addressA << 16) | portA;
        ulong b = ((ulong)addressB << 16) | portB;
        ulong low = Math.Min(a, b) | ((ulong)zone << 48);
        ulong high = Math.Max(a, b) | ((ulong)proto << 48);
        ulong product = Math.BigMul(low ^ SymmetricSeed, high ^ Ipv4Secret, out ulong lowProduct);
        return FlowHash.Finish(product ^ lowProduct);
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
    /// Where a connection lives: the receive queue of a frame (the ports' RSS, made symmetric as a NIC
    /// with a symmetric RSS key does) and the conntrack shard of its connection
    /// (<c>ConntrackInputParser.ShardHashOf</c> computes the same value from the conntrack key). The
    /// symmetric hash over (nw_proto, both endpoints) without the zone, which a frame does not carry
    /// before its ct action: so both directions of a connection reach one queue, one PMD, and the
    /// shard that PMD hosts (docs/architecture.md, "Where a shard lives"). Ports as in <see cref="SymmetricHash(in FlowKey)"/>.
    /// </summary>
    public static uint PlacementHash(in FlowKey key)
    {
        bool ports = HasPorts(in key);
        ushort sport = ports ? key.TpSrc : (ushort)0;
        ushort dport = ports ? key.TpDst : (ushort)0;
        if (key.IsIpv4)
        {
            return SymmetricHash(0, key.NwProto, key.NwSrc, sport, key.NwDst, dport);
        }

        return key.IsIpv6 ? SymmetricHash(0, key.NwProto, key.Ipv6Src, sport, key.Ipv6Dst, dport) : 0;
    }

    /// <summary>
    /// <see cref="PlacementHash(in FlowKey)"/> of an unfragmented IPv4 connection given by its endpoints
    /// (either order): the ports count only where the protocol has them (<see cref="PlacesByPorts"/>).
    /// </summary>
    public static uint PlacementHash(byte protocol, uint addressA, ushort portA, uint addressB, ushort portB)
    {
        bool ports = PlacesByPorts(protocol);
        return SymmetricHash(0, protocol, addressA, ports ? portA : (ushort)0, addressB, ports ? portB : (ushort)0);
    }

    /// <summary>True for the protocols whose ports are part of a connection's placement (TCP, UDP, SCTP).</summary>
    public static bool PlacesByPorts(byte protocol) => protocol is IpProtocols.Tcp or IpProtocols.Udp or IpProtocols.Sctp;

    private static bool HasPorts(in FlowKey key) => key.NwFrag == 0 && PlacesByPorts(key.NwProto);
}
