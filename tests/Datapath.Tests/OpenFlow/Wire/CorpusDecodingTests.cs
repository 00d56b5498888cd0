using Datapath.OpenFlow;
using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Wire;
using Datapath.Tests.Support;

namespace Datapath.Tests.OpenFlow.Wire;

/// <summary>The decoder against what real OpenFlow clients sent Open vSwitch (tests/data/openflow).</summary>
public sealed class CorpusDecodingTests
{
    [Fact]
    public void Every_request_ovs_ofctl_and_ovs_testcontroller_sent_decodes()
    {
        var refused = new List<string>();
        int decoded = 0;
        foreach (var (message, tableId) in WithSessionState(OpenFlowCorpus.Requests().Concat(OpenFlowCorpus.Requests("controller-messages.txt"))))
        {
            try
            {
                OfpDecoder.Decode(message, tableId);
                decoded++;
            }
            catch (OfpException e)
            {
                refused.Add($"{e.Kind}: {e.Message}");
            }
        }

        // The refusals: OpenFlow 1.0 lets Open vSwitch take mod_tp_dst on a rule that matches no
        // transport (a no-op there), while this switch checks actions against the match in every
        // version; and ovs-testcontroller's OpenFlow 1.5 packet_outs carry packet_type in their
        // match, which Open vSwitch 3.1 refused too (OFPBMC_BAD_MASK, in the capture).
        Assert.True(decoded > 300, $"only {decoded} requests decoded");
        Assert.Equal(3, refused.Count);
        Assert.Single(refused, r => r.StartsWith(nameof(OfpErrorKind.BadActionMatchInconsistent), StringComparison.Ordinal) && r.Contains("tp_dst", StringComparison.Ordinal));
        Assert.Equal(2, refused.Count(r => r.StartsWith(nameof(OfpErrorKind.BadMatchField), StringComparison.Ordinal) && r.Contains("packet_type", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_firewall_added_by_ovs_ofctl_decodes_to_the_flows_of_its_text_in_openflow_10_and_13()
    {
        var firewall = FlowParser.ParseFile(File.ReadAllText(TestData.Capture("firewall.flows")), "firewall.flows");
        var adds = new Dictionary<byte, List<FlowEntry>>();
        foreach (var (message, tableId) in WithSessionState(OpenFlowCorpus.Requests()))
        {
            if (message[1] is not (14 or 4))
            {
                continue;
            }

            try
            {
                if (OfpDecoder.Decode(message, tableId) is FlowMod { Command: FlowModCommand.Add } mod)
                {
                    var entry = new FlowEntry(mod.Table == 255 ? (byte)0 : mod.Table, mod.Priority, mod.Cookie, mod.IdleTimeout, mod.HardTimeout, mod.Match, mod.Actions) { Flags = mod.Flags };
                    (adds.TryGetValue(message[0], out var list) ? list : adds[message[0]] = []).Add(entry);
                }
            }
            catch (OfpException)
            {
                // The corpus refusal is covered above.
            }
        }

        foreach (byte version in new[] { OfpVersion.Of10, OfpVersion.Of13 })
        {
            foreach (var flow in firewall)
            {
                Assert.Contains(flow, adds[version]);
            }
        }
    }

    [Fact]
    public void A_flow_with_every_kind_of_field_and_action_decodes_to_what_its_text_says()
    {
        // The capture's table=3 flow (ovs-ofctl -O OpenFlow13): NXM ct fields and registers, OXM udp, nested ct actions, controller, push_vlan and set_field.
        var text = FlowParser.ParseLine("table=3,priority=7,reg0=5,ct_state=+trk+est,ct_zone=3,ct_mark=0x1/0xf,ct_label=0x2,udp,udp_dst=53 actions=ct(commit,zone=7,exec(set_field:0x3->ct_mark,load:0x4->NXM_NX_CT_LABEL[0..7])),controller:128,dec_ttl,set_field:00:11:22:33:44:55->eth_src,push_vlan:0x8100,set_field:4196->vlan_vid,output:2");
        var mod = OpenFlowCorpus.Requests().Where(m => m[0] == OfpVersion.Of13 && m[1] == 14)
            .Select(m => OfpDecoder.Decode(m)).OfType<FlowMod>().First(f => f.Table == 3);

        Assert.Equal(text.Match, mod.Match);
        Assert.Equal(ActionFormatter.Format(text.Actions), ActionFormatter.Format(mod.Actions));
    }

    /// <summary>The requests with the NXT_FLOW_MOD_TABLE_ID state of their connection (a hello starts a new one).</summary>
    private static IEnumerable<(byte[] Message, bool TableId)> WithSessionState(IEnumerable<byte[]> requests)
    {
        bool tableId = false;
        foreach (var message in requests)
        {
            if (message[1] == 0)
            {
                tableId = false;
            }

            yield return (message, tableId);
            if (OfpDecoder.Decode(message[1] == 4 && message.Length >= 24 && message[15] == 15 ? message : [1, 0, 0, 8, 0, 0, 0, 0]) is FlowModTableId t)
            {
                tableId = t.Enable;
            }
        }
    }
}
