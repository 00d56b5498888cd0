using Datapath.Packets;

namespace Actors.Ports;

/// <summary>
/// The packets a port actor owns: its receive pools (one per port; a system port one per queue; a
/// replay one for both ports) and one transmit pool per port, which the PMDs copy outputs into.
///
/// Ownership rule: a packet belongs to the pool it came from, whichever actor holds it. A port
/// gives back every packet it is done with through <see cref="Release"/> and nothing else: the
/// packets a PMD transmits may be its copies (this port's transmit pool) or, for an action list's
/// last output, the received packets themselves (any port's receive pool; dp_netdev's may_steal).
/// </summary>
public sealed class PortPools
{
    internal PortPools(IReadOnlyList<ConcurrentPacketPool> receive, IReadOnlyList<ConcurrentPacketPool> transmit)
    {
        Receive = receive;
        Transmit = transmit;
    }

    public IReadOnlyList<ConcurrentPacketPool> Receive { get; }

    /// <summary>The transmit pool of each port, in the order of the actor's ports.</summary>
    public IReadOnlyList<ConcurrentPacketPool> Transmit { get; }

    /// <summary>
    /// Packets not in their pool now: in a PMD, in a batch on its way, with a host, or lost. 0 once
    /// a drained port has everything back (fragments a PMD still holds for reassembly excepted).
    /// </summary>
    public int OutOfPool => Receive.Concat(Transmit).Sum(p => p.Size - p.Available);

    /// <summary>A receive pool and a transmit pool of the given sizes for each of <paramref name="ports"/> ports.</summary>
    internal static PortPools PerPort(int ports, int receiveSize, int transmitSize, int packetCapacity = Packet.DefaultCapacity) =>
        new(Pools(ports, receiveSize, packetCapacity), Pools(ports, transmitSize, packetCapacity));

    internal static ConcurrentPacketPool[] Pools(int count, int size, int packetCapacity = Packet.DefaultCapacity)
    {
        var pools = new ConcurrentPacketPool[count];
        for (int i = 0; i < count; i++)
        {
            pools[i] = new ConcurrentPacketPool(size, packetCapacity);
        }

        return pools;
    }

    /// <summary>The one way a port lets go of a packet: back to the pool it came from (a packet of no pool, a scratch one, is simply left).</summary>
    internal static void Release(Packet packet) => packet.Pool?.Return(packet);

    /// <summary>
    /// <see cref="Release"/> for a whole batch: each run of packets of one concurrent pool goes back
    /// in one operation (a transmitted batch is usually one run: the received packets of one port).
    /// </summary>
    internal static void ReleaseAll(ReadOnlySpan<Packet> packets)
    {
        int start = 0;
        while (start < packets.Length)
        {
            var pool = packets[start].Pool;
            int end = start + 1;
            while (end < packets.Length && ReferenceEquals(packets[end].Pool, pool))
            {
                end++;
            }

            if (pool is ConcurrentPacketPool concurrent)
            {
                concurrent.ReturnMany(packets[start..end]);
            }
            else
            {
                foreach (var packet in packets[start..end])
                {
                    Release(packet);
                }
            }

            start = end;
        }
    }
}
