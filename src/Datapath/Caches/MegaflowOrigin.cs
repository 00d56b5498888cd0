namespace Datapath.Caches;

/// <summary>
/// The record a maker keeps of one megaflow it installed (for the slow path, the part of Open
/// vSwitch's udpif_key that the revalidator uses). Each maker (an upcall handler, the recirculation
/// bypass) derives its own kind; this base keeps what every kind needs for statistics: how much of the megaflow's traffic was already credited to its
/// sources, so that each packet is credited exactly once however often statistics are pushed.
/// Owned by the PMD that owns the megaflow.
/// </summary>
public abstract class MegaflowOrigin
{
    /// <summary>Packets of the megaflow already credited to its sources.</summary>
    public long PushedPackets { get; private set; }

    /// <summary>Bytes of the megaflow already credited to its sources.</summary>
    public long PushedBytes { get; private set; }

    /// <summary>Records traffic credited by other means, such as the packet whose upcall made the megaflow.</summary>
    public void MarkPushed(long packets, long bytes)
    {
        PushedPackets += packets;
        PushedBytes += bytes;
    }

    /// <summary>
    /// The traffic in <paramref name="stats"/> (the megaflow's cumulative statistics) not credited
    /// yet, which from now on counts as credited.
    /// </summary>
    public (long Packets, long Bytes) TakeUnpushed(in MegaflowStats stats)
    {
        long packets = stats.Packets - PushedPackets;
        long bytes = stats.Bytes - PushedBytes;
        PushedPackets = stats.Packets;
        PushedBytes = stats.Bytes;
        return (packets, bytes);
    }
}
