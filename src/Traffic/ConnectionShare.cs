using Datapath.Flow;

namespace Traffic;

/// <summary>
/// Where a connection's frames are received: the part of a split generator whose receive queues
/// they reach (a port's RSS, symmetric: both directions give the same part). The ports are the
/// transport ports, or 0 for a protocol without them (ICMP); an implementation that places ICMP by
/// addresses alone must ignore them there.
/// </summary>
public delegate int ConnectionPlacement(byte ipProtocol, uint addressA, ushort portA, uint addressB, ushort portB);

/// <summary>
/// One part of a generator split by receive side (one generator per PMD, each sending only the
/// connections whose frames its PMD receives, as a PMD thread polls only its own queues). The
/// parts together keep the profile's <see cref="TrafficProfile.Connections"/>: each owns the slots
/// whose address pair its part receives (an ICMP exchange is placed by its addresses), and draws for
/// each TCP or UDP connection an initiator port that keeps the whole 5-tuple with it. No two parts
/// can then ever open the same connection, and a connection's answers come back to the part that
/// opened it.
/// </summary>
public sealed class ConnectionShare
{
    private readonly ConnectionPlacement _placement;

    // Slots of the parts before this one: where its share of a whole starts.
    private readonly int _slotsBefore;

    private ConnectionShare(int part, int[] slots, int slotsBefore, int total, ConnectionPlacement placement)
    {
        Total = total;
        Part = part;
        Slots = slots;
        _slotsBefore = slotsBefore;
        _placement = placement;
    }

    /// <summary>This part's number, from 0: the part the placement names.</summary>
    public int Part { get; }

    /// <summary>The connections of all parts together (the profile's).</summary>
    public int Total { get; }

    /// <summary>The profile's connection slots this part keeps (ascending): they give the addresses.</summary>
    public IReadOnlyList<int> Slots { get; }

    /// <summary>Splits <paramref name="profile"/>'s connections into <paramref name="parts"/> shares by <paramref name="placement"/>.</summary>
    /// <exception cref="ArgumentException">The placement names a part out of range.</exception>
    public static IReadOnlyList<ConnectionShare> Split(TrafficProfile profile, int parts, ConnectionPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(placement);
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        profile.Validate();
        var slots = new List<int>[parts];
        for (int part = 0; part < parts; part++)
        {
            slots[part] = [];
        }

        for (int slot = 0; slot < profile.Connections; slot++)
        {
            int part = placement(IpProtocols.Icmp, profile.ClientNetwork.Host(slot), 0, profile.ServerNetwork.Host(slot), 0);
            if ((uint)part >= (uint)parts)
            {
                throw new ArgumentException($"The placement put slot {slot} in part {part}; there are {parts}.", nameof(placement));
            }

            slots[part].Add(slot);
        }

        var shares = new ConnectionShare[parts];
        int before = 0;
        for (int part = 0; part < parts; part++)
        {
            shares[part] = new ConnectionShare(part, slots[part].ToArray(), before, profile.Connections, placement);
            before += slots[part].Count;
        }

        return shares;
    }

    /// <summary>This part's share of a whole (a rate, a frame limit): proportional to its slots, the parts' shares summing to <paramref name="whole"/>.</summary>
    public long ShareOf(long whole)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(whole);

        // The difference of running totals: rounding never loses or adds a unit over the parts.
        return Floor(whole, _slotsBefore + Slots.Count, Total) - Floor(whole, _slotsBefore, Total);
    }

    /// <summary>True when the connection (initiator and responder address and port) is this part's.</summary>
    internal bool Owns(TrafficProtocol protocol, uint initiatorIp, ushort initiatorL4, uint responderIp, ushort responderL4) =>
        protocol == TrafficProtocol.Icmp
            ? _placement(IpProtocols.Icmp, initiatorIp, 0, responderIp, 0) == Part
            : _placement(protocol == TrafficProtocol.Tcp ? IpProtocols.Tcp : IpProtocols.Udp, initiatorIp, initiatorL4, responderIp, responderL4) == Part;

    private static long Floor(long whole, long part, long total) => (long)((Int128)whole * part / total);
}
