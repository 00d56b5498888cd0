using System.Globalization;
using System.Text;

namespace Datapath.Stats;

/// <summary>
/// Counters of one PMD's pipeline, named and printed as Open vSwitch's
/// `ovs-appctl dpif-netdev/pmd-stats-show` names them (ns instead of cycles).
/// Owned by the PMD; read by whoever the PMD hands a copy to.
/// </summary>
public sealed class PmdStats
{
    /// <summary>Packets received from ports (not counting recirculated passes).</summary>
    public long PacketsReceived;

    /// <summary>Passes through the pipeline of recirculated packets.</summary>
    public long Recirculations;

    public long EmcHits;
    public long MegaflowHits;

    /// <summary>Subtables probed, summed over megaflow hits.</summary>
    public long SubtableLookups;

    public long UpcallsOk;
    public long UpcallsFailed;

    public long Batches;

    /// <summary>Packets that took a bypass flow (recirculation bypass) instead of ct + recirc.</summary>
    public long BypassHits;

    /// <summary>Bypass flows built (per pair of megaflows, or per connection direction, and per PMD).</summary>
    public long BypassInstalls;

    /// <summary>Bypass flows removed: their connection left the established state, their guard failed, or a megaflow they stand for died.</summary>
    public long BypassRevocations;

    /// <summary>Packets of a bypass flow whose new conntrack fields failed its guard: they recirculated as usual.</summary>
    public long BypassGuardFallbacks;

    /// <summary>Nanoseconds spent processing, measured by the owner around batches.</summary>
    public long ProcessingNs;

    /// <summary>Packets the owner handed to ports (each output copy), since the last clear; filled in by the owner, which batches them.</summary>
    public long OutputPackets;

    /// <summary>Batches the owner sent to ports for <see cref="OutputPackets"/> (dp_netdev's output batching).</summary>
    public long OutputBatches;

    /// <summary>A copy to hand to another owner (a statistics reply).</summary>
    public PmdStats Copy() => (PmdStats)MemberwiseClone();

    public void Clear()
    {
        PacketsReceived = Recirculations = EmcHits = MegaflowHits = SubtableLookups = 0;
        UpcallsOk = UpcallsFailed = Batches = ProcessingNs = OutputPackets = OutputBatches = 0;
        BypassHits = BypassInstalls = BypassRevocations = BypassGuardFallbacks = 0;
    }

    /// <summary>Writes the pmd-stats-show block for this PMD.</summary>
    public void Format(StringBuilder sb, string pmdName)
    {
        long passes = PacketsReceived + Recirculations;
        var c = CultureInfo.InvariantCulture;
        sb.Append(c, $"pmd thread {pmdName}:\n");
        sb.Append(c, $"  packets received: {PacketsReceived}\n");
        sb.Append(c, $"  packet recirculations: {Recirculations}\n");
        sb.Append(c, $"  avg. datapath passes per packet: {Ratio(passes, PacketsReceived):F2}\n");

        // Open vSwitch's lines in its order, so scripts reading its output read ours: this datapath
        // has no hardware offload, SIMD miniflow extract, simple-match cache or signature match
        // cache, so those count 0 (as Open vSwitch's do with the features off).
        sb.Append("  phwol hits: 0\n  mfex opt hits: 0\n  simple match hits: 0\n");
        sb.Append(c, $"  emc hits: {EmcHits}\n");
        sb.Append("  smc hits: 0\n");
        sb.Append(c, $"  megaflow hits: {MegaflowHits}\n");
        sb.Append(c, $"  avg. subtable lookups per megaflow hit: {Ratio(SubtableLookups, MegaflowHits):F2}\n");
        sb.Append(c, $"  miss with success upcall: {UpcallsOk}\n");
        sb.Append(c, $"  miss with failed upcall: {UpcallsFailed}\n");
        sb.Append(c, $"  avg. packets per output batch: {Ratio(OutputPackets, OutputBatches):F2}\n");
        sb.Append(c, $"  bypass hits: {BypassHits}\n");
        sb.Append(c, $"  bypass installs: {BypassInstalls}\n");
        sb.Append(c, $"  bypass revocations: {BypassRevocations}\n");
        sb.Append(c, $"  bypass guard fallbacks: {BypassGuardFallbacks}\n");
        sb.Append(c, $"  avg. packets per input batch: {Ratio(passes, Batches):F2}\n");
        sb.Append(c, $"  processing ns: {ProcessingNs}\n");
        sb.Append(c, $"  avg. ns per packet: {Ratio(ProcessingNs, PacketsReceived):F1}\n");
    }

    private static double Ratio(long a, long b) => b == 0 ? 0 : (double)a / b;
}
