using Datapath.Actions;
using Datapath.Caches;
using Datapath.Flow;
using Datapath.OpenFlow.Normal;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Trace;
using Datapath.Packets;
using Datapath.Upcalls;

namespace Datapath.OpenFlow.Translation;

/// <summary>
/// The slow path of one bridge (the analogue of ofproto-dpif's xlate_actions): walks the OpenFlow
/// tables for a packet's flow key and produces the datapath actions and the megaflow mask.
///
/// <para>Megaflow mask: recirc_id, in_port and eth_type always (as Open vSwitch's xlate_wc_init,
/// which also adds nw_frag for IP); for each table lookup, the bits each rule examined up to the
/// winner (<see cref="FlowTable.Lookup"/>); and the fields actions read (NORMAL: dl_src, dl_dst,
/// VLAN; dec_ttl: TTL; VLAN rewrites: the tags). Registers and metadata never appear: they start
/// at zero and are restored from the continuation after recirculation, so the datapath key
/// determines them. Header rewrites are emitted as masked sets of exactly the bits written,
/// without reading the old value, so they add nothing to the mask.</para>
///
/// <para>State it owns and mutates: the MAC learning table (NORMAL learns at translation time)
/// and the recirculation registry (each recirc(id) emitted holds one reference for the caller).
/// One owner thread; not thread-safe.</para>
/// </summary>
public sealed class Translator : IUpcallHandler
{
    /// <summary>Resubmit/goto_table nesting limit (Open vSwitch's MAX_DEPTH).</summary>
    public const int MaxResubmitDepth = 64;

    private IReadOnlyList<uint> _ports;

    /// <param name="tables">The bridge's OpenFlow tables.</param>
    /// <param name="recirc">Recirculation ids of this bridge's datapath.</param>
    /// <param name="ports">The bridge's ports, in flooding order (NORMAL, FLOOD, ALL).</param>
    /// <param name="macs">The MAC learning table; a default one (300 s aging, the tables' clock) when null.</param>
    public Translator(OpenFlowTables tables, RecircRegistry recirc, IReadOnlyList<uint> ports, MacLearningTable? macs = null)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(recirc);
        ArgumentNullException.ThrowIfNull(ports);
        Tables = tables;
        Recirc = recirc;
        _ports = ports.ToArray();
        Macs = macs ?? new MacLearningTable(clock: tables.Clock);
    }

    public OpenFlowTables Tables { get; }

    public RecircRegistry Recirc { get; }

    public MacLearningTable Macs { get; }

    /// <summary>The controller actions' userdata, numbered for the datapath's userspace actions.</summary>
    public ControllerRegistry Controllers { get; } = new();

    /// <summary>The bridge's ports; setting it increments <see cref="PortsVersion"/> (flood lists change).</summary>
    public IReadOnlyList<uint> Ports
    {
        get => _ports;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            _ports = value.ToArray();
            PortsVersion++;
        }
    }

    public long PortsVersion { get; private set; }

    /// <summary>Upcalls that failed (unknown recirculation id).</summary>
    public long FailedUpcalls { get; private set; }

    /// <summary>
    /// Translates the packet whose datapath key is <paramref name="key"/>. A key with a nonzero
    /// recirc_id resumes the continuation that id names. <paramref name="trace"/>, when given,
    /// receives one line per table visited and per action.
    /// </summary>
    public TranslationResult Translate(in FlowKey key, TraceRecorder? trace = null) => Translate(in key, trace, mayLearn: true);

    /// <summary>
    /// <see cref="Translate(in FlowKey, TraceRecorder?)"/>; with <paramref name="mayLearn"/> false,
    /// NORMAL learns nothing (revalidation translates a megaflow's key, not a packet that arrived:
    /// learning from it could move an address back to a port it has left, as Open vSwitch's may_learn prevents).
    /// </summary>
    public TranslationResult Translate(in FlowKey key, TraceRecorder? trace, bool mayLearn)
    {
        var xlate = new Xlate(this, in key, trace, mayLearn);
        return xlate.Run();
    }

    /// <summary>
    /// Translates a packet_out's <paramref name="actions"/> for the packet whose key is
    /// <paramref name="key"/> (OFPP_TABLE in them runs the tables from table 0). Nothing is
    /// credited and no megaflow comes of it; the caller executes the actions once and releases
    /// the recirculation ids they hold when the packet is done.
    /// </summary>
    public TranslationResult TranslatePacketOut(in FlowKey key, IReadOnlyList<OfAction> actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        var xlate = new Xlate(this, in key, trace: null, mayLearn: true);
        return xlate.RunActions(actions);
    }

    /// <summary>
    /// <see cref="IUpcallHandler"/>: translates and credits the matched rules with this packet.
    /// Returns false (the pipeline drops the packet, nothing is installed) when the recirculation
    /// id is unknown; a translation error such as a resubmit loop installs a drop megaflow.
    /// The caller owns the recirc references in <paramref name="actions"/> (release them through
    /// <see cref="RecircRegistry.ReleaseAll"/> when the megaflow dies).
    /// </summary>
    public bool Upcall(in FlowKey key, Packet packet, out FlowKey mask, out ActionList actions) =>
        Upcall(in key, packet, out mask, out actions, out _);

    /// <summary>
    /// <see cref="Upcall(in FlowKey, Packet, out FlowKey, out ActionList)"/>, also returning a
    /// <see cref="TranslationOrigin"/> for the megaflow: its rules, what the translation depended
    /// on, and this packet counted as already credited (so that pushes credit only later hits).
    /// </summary>
    public bool Upcall(in FlowKey key, Packet packet, out FlowKey mask, out ActionList actions, out MegaflowOrigin? origin)
    {
        ArgumentNullException.ThrowIfNull(packet);
        var result = Translate(in key);
        mask = result.Mask;
        actions = result.Actions;
        origin = null;
        if (result.UnknownRecirculation)
        {
            FailedUpcalls++;
            return false;
        }

        Tables.Credit(result.Rules, 1, packet.Length);
        var made = new TranslationOrigin(result, PortsVersion);
        made.MarkPushed(1, packet.Length);
        origin = made;
        return true;
    }
}
