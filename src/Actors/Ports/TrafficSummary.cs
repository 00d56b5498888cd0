using Traffic;

namespace Actors.Ports;

/// <summary>Connections of one protocol by outcome (a copy of <see cref="TrafficStats"/>' counters).</summary>
public sealed record ProtocolCounts(long Opened, long Completed, long Reset, long TimedOut)
{
    public ProtocolCounts Add(ProtocolCounts other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new(Opened + other.Opened, Completed + other.Completed, Reset + other.Reset, TimedOut + other.TimedOut);
    }

    internal static ProtocolCounts From(TrafficStats stats, TrafficProtocol protocol) =>
        new(stats.Opened(protocol), stats.Completed(protocol), stats.Reset(protocol), stats.TimedOut(protocol));
}

/// <summary>An immutable copy of a generator's <see cref="TrafficStats"/>, safe to send to another actor.</summary>
/// <param name="RepliesSent">Frames sent by the responding side; each answers a frame the datapath delivered.</param>
/// <param name="Ignored">Delivered frames no host answered (of no live connection, out of sequence, or back on their own port).</param>
/// <param name="QueueOverflows">Frames a host could not queue (never expected).</param>
public sealed record TrafficSummary(
    ProtocolCounts Tcp,
    ProtocolCounts Udp,
    ProtocolCounts Icmp,
    long RepliesSent,
    long Ignored,
    long QueueOverflows)
{
    public long Opened => Tcp.Opened + Udp.Opened + Icmp.Opened;

    public long Completed => Tcp.Completed + Udp.Completed + Icmp.Completed;

    public long TimedOut => Tcp.TimedOut + Udp.TimedOut + Icmp.TimedOut;

    /// <summary>The generators of a port split by PMD taken together; null when none of the parts has a generator.</summary>
    public static TrafficSummary? Sum(IEnumerable<TrafficSummary?> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        TrafficSummary? sum = null;
        foreach (var part in parts)
        {
            if (part is null)
            {
                continue;
            }

            sum = sum is null ? part : new TrafficSummary(
                sum.Tcp.Add(part.Tcp),
                sum.Udp.Add(part.Udp),
                sum.Icmp.Add(part.Icmp),
                sum.RepliesSent + part.RepliesSent,
                sum.Ignored + part.Ignored,
                sum.QueueOverflows + part.QueueOverflows);
        }

        return sum;
    }

    public static TrafficSummary From(TrafficStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        return new TrafficSummary(
            ProtocolCounts.From(stats, TrafficProtocol.Tcp),
            ProtocolCounts.From(stats, TrafficProtocol.Udp),
            ProtocolCounts.From(stats, TrafficProtocol.Icmp),
            stats.RepliesSent,
            stats.Ignored,
            stats.QueueOverflows);
    }
}

/// <summary>How far a pcap port has read its capture.</summary>
/// <param name="FramesRead">Records read, over every pass.</param>
/// <param name="FramesSkipped">Frames of no port (an unknown source MAC when ports are assigned by MAC); never sent.</param>
/// <param name="PassesCompleted">Times the whole file was read (a looping port starts again after each).</param>
/// <param name="InputDone">The capture has ended (a port that does not loop read its last record).</param>
public sealed record PcapProgress(long FramesRead, long FramesSkipped, int PassesCompleted, bool InputDone);
