namespace Bench.Firewall;

/// <summary>
/// One bench run: rates over the timed window (after the warm-up) and the change of the datapath's
/// counters over it. Serialized with snake_case names (the `--json` contract: at least mpps, pmds,
/// connections, protocol, bypass, emc_hit_rate, bypass_hits).
/// </summary>
/// <param name="Mpps">Packets the PMDs received from both ports per second, in millions (the headline rate; equals <paramref name="TxMpps"/> when nothing drops).</param>
/// <param name="RxMpps">Same as <paramref name="Mpps"/>: packets received by the datapath.</param>
/// <param name="TxMpps">Packets the datapath transmitted on both ports per second, in millions.</param>
/// <param name="Protocol">udp or tcp.</param>
/// <param name="Bypass">The bypass mode the run had (off, megaflow, per-connection or emc-only, as datapath.recirc-bypass writes it).</param>
/// <param name="EmcHitRate">EMC hits per pipeline pass (received packets plus recirculations), 0..1.</param>
/// <param name="Drops">Every drop: the PMDs' drops by reason plus the ports' receive drops.</param>
/// <param name="CtInvalid">Packets conntrack answered invalid.</param>
/// <param name="PmdNsPerPacket">Time the PMDs spent in packet work (their processing ns, around batches and conntrack answers) per received packet.</param>
/// <param name="PmdBusy">That time as a share of the window, per PMD (1 = a PMD never waited for work).</param>
/// <param name="CtCreated">Connections conntrack created (0 when every packet belonged to an established connection).</param>
internal sealed record BenchResult(
    double Mpps,
    double RxMpps,
    double TxMpps,
    int Pmds,
    int Connections,
    string Protocol,
    string Bypass,
    double EmcHitRate,
    long BypassHits,
    long BypassInstalls,
    long BypassGuardFallbacks,
    long Recirculations,
    long Upcalls,
    long Drops,
    long CtInvalid,
    long CtCreated,
    long RxPackets,
    long TxPackets,
    double PmdNsPerPacket,
    double PmdBusy,
    double Seconds,
    double WarmupSeconds)
{
    /// <summary>Conntrack messages the PMDs sent per received packet (0 when every shard a packet needs is hosted by its PMD).</summary>
    public double CtMessagesPerPacket { get; init; }

    /// <summary>Conntrack inputs tracked in place, on a shard the PMD hosts, per received packet.</summary>
    public double CtInPlacePerPacket { get; init; }

    /// <summary>The NAT cell ("snat"), or null for the plain firewall.</summary>
    public string? Nat { get; init; }

    /// <summary>Conntrack shards hosted by the PMDs at the end of the window.</summary>
    public int HostedShards { get; init; }

    /// <summary>CPU seconds the whole process (ports, PMDs, shards, collector) used per million received packets.</summary>
    public double CpuSecondsPerMillionPackets { get; init; }

    /// <summary>Bytes the whole process allocated per received packet over the window.</summary>
    public double AllocatedBytesPerPacket { get; init; }

    /// <summary>Garbage collections (all generations) per million received packets.</summary>
    public double GcPerMillionPackets { get; init; }

    /// <summary>Each PMD's received rate and time per packet, by PMD number.</summary>
    public IReadOnlyList<PmdRate> PerPmd { get; init; } = [];
}

/// <summary>One PMD's share of a bench window: received Mpps and PMD ns per packet.</summary>
internal sealed record PmdRate(int Pmd, double Mpps, double NsPerPacket);
