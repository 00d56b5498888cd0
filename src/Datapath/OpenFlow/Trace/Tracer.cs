using System.Text;
using Datapath.Flow;
using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Translation;
using Datapath.Packets;

namespace Datapath.OpenFlow.Trace;

/// <summary>
/// ofproto/trace (Open vSwitch's ofproto/ofproto-dpif-trace.c): translates a flow and prints
/// every table visited with the matching rule and its actions, the final flow, the megaflow and
/// the datapath actions; for each ct(table=N) it then follows the recirculated packet with an
/// assumed conntrack state (--ct-next, default trk|new), as Open vSwitch does.
/// Recirculation ids taken by the trace are released at the end. Cold path.
/// </summary>
public sealed class Tracer
{
    private const int MaxRecirculations = 4096;
    private readonly Translator _translator;
    private readonly string _bridge;

    public Tracer(Translator translator, string bridge = "br0")
    {
        ArgumentNullException.ThrowIfNull(translator);
        _translator = translator;
        _bridge = bridge;
    }

    /// <summary>Parses ct_state flags for --ct-next: "trk,est", "trk|est" or "+trk+est".</summary>
    /// <exception cref="FormatException">Unknown flag.</exception>
    public static CtState ParseCtState(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        CtState state = CtState.None;
        foreach (string part in text.Split([',', '|', '+'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int bit = Array.IndexOf(FieldText.CtStateNames, part);
            if (bit < 0)
            {
                throw new FormatException($"{part}: unknown connection tracking state flag");
            }

            state |= (CtState)(1 << bit);
        }

        return state;
    }

    /// <summary>Traces the packet with datapath key <paramref name="key"/>; <paramref name="ctNext"/> are the states assumed after each ct, in order.</summary>
    public string Trace(in FlowKey key, IReadOnlyList<CtState>? ctNext = null)
    {
        var output = new StringBuilder();
        var queue = new Queue<(FlowKey Key, uint Id)>();
        var taken = new List<TranslationResult>();
        int next = 0;
        TraceOne(in key, output, queue, taken);
        int recirculations = 0;
        while (queue.Count > 0)
        {
            var (recircKey, id) = queue.Dequeue();
            if (recirculations++ > MaxRecirculations)
            {
                output.Append("\n\n").Append('=', 79).Append("\nTrace reached the recirculation limit.");
                break;
            }

            output.Append("\n\n").Append('=', 79);
            output.Append("\nrecirc(").AppendHashHex(id).Append(')');
            CtState state;
            if (ctNext is null || next >= ctNext.Count)
            {
                state = CtState.Tracked | CtState.New;
                output.Append(" - resume conntrack with default ct_state=trk|new (use --ct-next to customize)");
            }
            else
            {
                state = ctNext[next++];
                output.Append(" - resume conntrack with ct_state=");
                FieldText.AppendFlags(output, (uint)state, FieldText.CtStateNames);
            }

            output.Append('\n').Append('=', 79).Append("\n\n");
            recircKey.CtState = state;
            TraceOne(in recircKey, output, queue, taken);
        }

        foreach (var result in taken)
        {
            _translator.Recirc.ReleaseAll(result.Actions);
        }

        return output.ToString();
    }

    private void TraceOne(in FlowKey key, StringBuilder output, Queue<(FlowKey, uint)> queue, List<TranslationResult> taken)
    {
        var recorder = new TraceRecorder(_bridge);
        var result = _translator.Translate(in key, recorder);
        taken.Add(result);
        output.Append("Flow: ");
        AppendFlow(output, result.InitialFlow);
        output.Append('\n');
        PrintNodes(output, recorder.Roots, 0);
        output.Append("\nFinal flow: ");
        if (result.FinalFlow.Equals(result.InitialFlow))
        {
            output.Append("unchanged");
        }
        else
        {
            AppendFlow(output, result.FinalFlow);
        }

        output.Append("\nMegaflow: ");
        var megaflowMask = result.Mask;
        var mask = new OfFlow(in megaflowMask);
        var masked = FlowKey.And(in key, in megaflowMask);
        var value = new OfFlow(in masked);
        MatchFormatter.Append(output, in value, in mask, FlowEntry.DefaultPriority, megaflow: true);
        output.Append("\nDatapath actions: ");
        output.Append(DatapathActionText.Format(result.Actions.Actions, in key));
        if (result.Error is not null)
        {
            output.Append("\nTranslation failed (").Append(result.Error).Append("), packet is dropped.\n");
        }

        foreach (var action in result.Actions.Actions)
        {
            if (action.Kind == Actions.ActionKind.Recirculate)
            {
                // The recirculated packet: same headers, the conntrack zone of the preceding ct.
                var next = key;
                next.RecircId = action.RecircId;
                next.CtZone = ZoneBefore(result.Actions.Actions, action.RecircId);
                queue.Enqueue((next, action.RecircId));
            }
        }
    }

    private static ushort ZoneBefore(ReadOnlySpan<Actions.DatapathAction> actions, uint recircId)
    {
        ushort zone = 0;
        foreach (var a in actions)
        {
            if (a.Kind == Actions.ActionKind.Conntrack)
            {
                zone = a.Ct.Zone;
            }
            else if (a.Kind == Actions.ActionKind.Recirculate && a.RecircId == recircId)
            {
                return zone;
            }
        }

        return zone;
    }

    /// <summary>
    /// flow_format: every field the packet's protocols carry (vlan_tci always), metadata only when
    /// nonzero, "eth" when recirc_id is nonzero.
    /// </summary>
    public static void AppendFlow(StringBuilder sb, in OfFlow flow)
    {
        ArgumentNullException.ThrowIfNull(sb);
        var k = flow.Key;
        var present = FlowFormatter.PresentFieldsMask(in k);
        var m = new OfFlow(in present);
        m.Key.Vlan0Tci = ushort.MaxValue;
        m.Key.RecircId = k.RecircId != 0 ? uint.MaxValue : 0;
        m.Key.CtState = k.CtState != CtState.None ? (CtState)0xff : CtState.None;
        m.Key.CtZone = k.CtZone != 0 ? ushort.MaxValue : (ushort)0;
        m.Key.CtMark = k.CtMark != 0 ? uint.MaxValue : 0;
        m.Key.CtLabel = k.CtLabel != UInt128.Zero ? UInt128.MaxValue : UInt128.Zero;
        if ((k.IsIpv4 || k.IsIpv6) && k.NwProto == IpProtocols.Tcp && (k.NwFrag & FlowKey.FragLater) == 0)
        {
            m.Key.TcpFlags = 0x0fff;
        }

        if (m.Key.TpSrc == byte.MaxValue)
        {
            // ICMP type and code: the whole 16-bit field is matched, as in Open vSwitch's flow.
            m.Key.TpSrc = ushort.MaxValue;
            m.Key.TpDst = ushort.MaxValue;
        }

        for (int i = 0; i < OfRegisters.Count; i++)
        {
            m.Regs[i] = flow.Regs[i] != 0 ? uint.MaxValue : 0;
        }

        m.Metadata = flow.Metadata != 0 ? ulong.MaxValue : 0;
        MatchFormatter.Append(sb, in flow, in m, FlowEntry.DefaultPriority, megaflow: k.RecircId != 0);
    }

    /// <summary>oftrace_node_print_details: indentation by nesting, "-&gt; " for details, dashes under the bridge.</summary>
    private static void PrintNodes(StringBuilder output, List<TraceNode> nodes, int level)
    {
        for (int i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            if (node.Type == TraceNodeType.Bridge)
            {
                output.Append('\n');
            }

            bool more = i != nodes.Count - 1 || node.IsTerminal;
            int indent = (level + (more ? 1 : 0)) * 4;
            output.Append(' ', indent);
            switch (node.Type)
            {
                case TraceNodeType.Detail:
                    output.Append(" -> ").Append(node.Text).Append('\n');
                    break;
                case TraceNodeType.Warn:
                    output.Append(" >> ").Append(node.Text).Append('\n');
                    break;
                case TraceNodeType.Error:
                    output.Append(" >>>> ").Append(node.Text).Append(" <<<<\n");
                    break;
                case TraceNodeType.Bridge:
                    output.Append(node.Text).Append('\n');
                    output.Append(' ', indent).Append('-', node.Text.Length).Append('\n');
                    break;
                default:
                    output.Append(node.Text).Append('\n');
                    break;
            }

            PrintNodes(output, node.Children, level + (more ? 2 : 0));
        }
    }

    /// <summary>The datapath key for a trace input in ovs-ofctl match syntax; unspecified fields are zero (parse_ofp_exact_flow).</summary>
    public static FlowKey ParseFlow(string text)
    {
        var match = FlowParser.ParseMatch(text);
        return match.Value.Key;
    }

    /// <summary>The datapath key of a packet given in hex, received on <paramref name="inPort"/>.</summary>
    /// <exception cref="FormatException">Not an even number of hex digits.</exception>
    public static FlowKey ParsePacket(string hex, uint inPort)
    {
        ArgumentNullException.ThrowIfNull(hex);
        byte[] frame = Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));
        var packet = new Packet();
        packet.SetFrame(frame, inPort);
        var key = default(FlowKey);
        FlowExtractor.Extract(packet, ref key, new ExtractionStats());
        return key;
    }

}
