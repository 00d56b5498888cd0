using Actors.PacketPath;
using Akka.Actor;
using Datapath.Packets;

namespace Actors.Ports;

/// <summary>
/// A started port actor, the links the PMDs need to transmit on its ports (give them to
/// <c>DatapathNode.UsePorts</c>), and its pools (to see that every packet came back).
/// </summary>
public sealed record PortHandle(IActorRef Actor, IReadOnlyList<PortLink> Links, PortPools Pools);

/// <summary>Ports split by PMD: one port actor per PMD (<see cref="Parts"/>, at the PMD's index), each on its PMD's thread; <see cref="Links"/> lead each PMD to its own part.</summary>
public sealed record SplitPortHandle(IReadOnlyList<PortHandle> Parts, IReadOnlyList<PortLink> Links)
{
    /// <summary>The parts (at their PMD's index, each serving the same ports) joined: each port's link names part 0 and leads PMD i to part i.</summary>
    public static SplitPortHandle Join(IReadOnlyList<PortHandle> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentOutOfRangeException.ThrowIfZero(parts.Count, nameof(parts));
        var links = new PortLink[parts[0].Links.Count];
        for (int i = 0; i < links.Length; i++)
        {
            links[i] = parts[0].Links[i] with { PerPmd = parts.Select(p => new PortLane(p.Actor, p.Pools.Transmit[i])).ToArray() };
        }

        return new SplitPortHandle(parts, links);
    }
}

/// <summary>Starts (or resumes) feeding frames to the PMDs.</summary>
public sealed record StartTraffic : INoSerializationVerificationNeeded
{
    public static StartTraffic Instance { get; } = new();

    private StartTraffic()
    {
    }
}

/// <summary>Stops feeding frames; batches already sent still run through the datapath. <see cref="StartTraffic"/> resumes.</summary>
public sealed record StopTraffic : INoSerializationVerificationNeeded
{
    public static StopTraffic Instance { get; } = new();

    private StopTraffic()
    {
    }
}

/// <summary>
/// Ends the traffic and reports: a finite source (a pcap that does not loop, a generator with a
/// frame limit) first runs to its end, an endless one stops at once; then the port waits until
/// every PMD has finished what it received (conntrack round trips, recirculations, transmissions)
/// and answers <see cref="PortDrained"/> (or <see cref="PortFailed"/>).
/// </summary>
public sealed record DrainAndReport : INoSerializationVerificationNeeded
{
    public static DrainAndReport Instance { get; } = new();

    private DrainAndReport()
    {
    }
}

/// <summary>Nothing the port sent is still in the datapath: the final counters.</summary>
public sealed record PortDrained(PortActorStatistics Statistics) : INoSerializationVerificationNeeded;

/// <summary>The port cannot run (its input is unreadable); the reason names the file.</summary>
public sealed record PortFailed(string Reason) : INoSerializationVerificationNeeded;

/// <summary>Asks a port actor for its counters; answered with <see cref="PortActorStatistics"/>.</summary>
public sealed record GetPortStatistics : INoSerializationVerificationNeeded
{
    public static GetPortStatistics Instance { get; } = new();

    private GetPortStatistics()
    {
    }
}

/// <summary>
/// One port's counters (ovs-ofctl dump-ports): frames handed to the PMDs (rx) and frames the PMDs
/// transmitted on it (tx), with one counter per receive drop reason.
/// </summary>
/// <param name="RxDroppedOverload">Frames dropped because the PMD of their queue had its window of batches full.</param>
/// <param name="RxDroppedPoolEmpty">Frames dropped because the port's receive pool had no free packet.</param>
/// <param name="RxDroppedTooLong">Frames received longer than the interface's MTU allows (system ports: e.g. unsegmented GSO frames).</param>
/// <param name="RxErrors">Receive calls that failed (system ports: the interface went down or away).</param>
/// <param name="TxDroppedTooLong">Frames to transmit longer than the interface's MTU allows.</param>
/// <param name="TxErrors">Frames the interface refused or had no room for (system ports: a full socket buffer, the interface down).</param>
public sealed record PortStatistics(
    uint Port,
    long RxPackets,
    long RxBytes,
    long TxPackets,
    long TxBytes,
    long RxDroppedOverload,
    long RxDroppedPoolEmpty,
    long RxDroppedTooLong = 0,
    long RxErrors = 0,
    long TxDroppedTooLong = 0,
    long TxErrors = 0) : INoSerializationVerificationNeeded
{
    public long RxDropped => RxDroppedOverload + RxDroppedPoolEmpty + RxDroppedTooLong;

    public long TxDropped => TxDroppedTooLong + TxErrors;

    /// <summary>The counters of one port served by several actors (a port split by PMD), per port number.</summary>
    public static IReadOnlyList<PortStatistics> SumByPort(IEnumerable<PortStatistics> parts) =>
        parts.GroupBy(p => p.Port).OrderBy(g => g.Key).Select(g => new PortStatistics(
            g.Key,
            g.Sum(p => p.RxPackets),
            g.Sum(p => p.RxBytes),
            g.Sum(p => p.TxPackets),
            g.Sum(p => p.TxBytes),
            g.Sum(p => p.RxDroppedOverload),
            g.Sum(p => p.RxDroppedPoolEmpty),
            g.Sum(p => p.RxDroppedTooLong),
            g.Sum(p => p.RxErrors),
            g.Sum(p => p.TxDroppedTooLong),
            g.Sum(p => p.TxErrors))).ToList();
}

/// <summary>
/// A port actor's counters at one moment: each of its ports, the generator's connection counters
/// (generator ports) or the capture's progress (pcap ports).
/// </summary>
public sealed record PortActorStatistics(
    IReadOnlyList<PortStatistics> Ports,
    TrafficSummary? Traffic,
    PcapProgress? Pcap) : INoSerializationVerificationNeeded
{
    /// <summary>The counters of <paramref name="port"/>.</summary>
    /// <exception cref="KeyNotFoundException">The actor does not serve that port.</exception>
    public PortStatistics this[uint port] =>
        Ports.FirstOrDefault(p => p.Port == port) ?? throw new KeyNotFoundException($"No port {port}.");
}
