using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Conntrack;

/// <summary>
/// Everything conntrack needs from one packet, extracted on the PMD side (see
/// <see cref="ConntrackInputParser"/>) so that the connection table never touches packet buffers:
/// a plain value of fields only, cheap to batch and to send to the shard that owns the connection.
///
/// <see cref="Key"/> is the lookup key of this packet's direction; for an ICMP error it is the
/// reverse of the quoted datagram's tuple (<see cref="IcmpRelated"/>), as in OVS. When
/// <see cref="InvalidReason"/> is not <see cref="ConntrackCounter.None"/> the packet could not be
/// keyed and conntrack answers inv|trk without looking anything up.
/// </summary>
public struct ConntrackInput
{
    public ConntrackKey Key;

    /// <summary>Why the packet cannot be tracked, or None.</summary>
    public ConntrackCounter InvalidReason;

    /// <summary>The key came from the datagram quoted in an ICMP / ICMPv6 error.</summary>
    public bool IcmpRelated;

    /// <summary>
    /// Symmetric hash of (zone, protocol, both endpoints): equal for both directions of a connection
    /// and for ICMP errors about it, so all of them reach the same shard.
    /// </summary>
    public uint ShardHash;

    /// <summary>L4 payload length (TCP: bytes after the TCP header).</summary>
    public uint PayloadLength;

    public uint TcpSeq;
    public uint TcpAck;
    public ushort TcpWindow;

    /// <summary>The low 12 bits of the TCP offset/flags word (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20).</summary>
    public ushort TcpFlags;

    /// <summary>The window-scale option of a SYN as OVS's tcp_get_wscale reports it: 0x80 | min(shift, 14), or 0 when absent.</summary>
    public byte TcpWindowScale;

    /// <summary>The packet's ct_state and ct_zone before this ct() (state is reset when the zone changes).</summary>
    public CtState PreviousState;
    public ushort PreviousZone;

    /// <summary>
    /// How many times the packet was sent on to another shard because its tuple is the reply tuple
    /// of a translated connection owned there (<see cref="ConntrackResult.OwnedElsewhere"/>): 1 at
    /// the owner, 2 back at the shard of the tuple when the owner no longer has the connection.
    /// </summary>
    public byte Reroutes;

    /// <summary>The placement hash of the shard the packet was sent on to (<see cref="Reroutes"/> &gt; 0).</summary>
    public uint OwnerHash;

    public readonly bool IsValid => InvalidReason == ConntrackCounter.None;

    /// <summary>The hash that picks the packet's shard: its own, or that of the owner it was sent on to.</summary>
    public readonly uint RoutingHash => Reroutes == 0 ? ShardHash : OwnerHash;

    /// <summary>The same input, to be sent on to the shard of <paramref name="ownerHash"/> (<see cref="ConntrackResult.OwnedElsewhere"/>).</summary>
    public readonly ConntrackInput SentOnTo(uint ownerHash)
    {
        var copy = this;
        copy.Reroutes++;
        copy.OwnerHash = ownerHash;
        return copy;
    }

    /// <summary>Parses <paramref name="packet"/> (flow-extracted, so its L3 offset is set) for ct(zone=<paramref name="zone"/>).</summary>
    /// <returns>True when the packet can be tracked; otherwise <paramref name="input"/> carries the reason.</returns>
    public static bool TryParse(Packet packet, in FlowKey key, ushort zone, out ConntrackInput input)
    {
        ArgumentNullException.ThrowIfNull(packet);
        return ConntrackInputParser.TryParse(packet.Data, packet.L3Offset, key.EthType, in packet.Metadata, zone, out input);
    }

    /// <summary>Parses <paramref name="packet"/> using what its last flow extraction recorded on it (offsets, ethertype).</summary>
    public static bool TryParse(Packet packet, ushort zone, out ConntrackInput input)
    {
        ArgumentNullException.ThrowIfNull(packet);
        return ConntrackInputParser.TryParse(packet.Data, packet.L3Offset, packet.EthType, in packet.Metadata, zone, out input);
    }
}
