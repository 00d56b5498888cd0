using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Wire;

namespace Datapath.Tests.OpenFlow.Wire;

/// <summary>
/// The connection's original tuple as match fields on the wire (NXM_NX_CT_NW_PROTO/SRC/DST,
/// CT_IPV6_SRC/DST, CT_TP_SRC/DST): a rule matching them goes out in a flow statistics reply and
/// comes back from a flow_mod unchanged, in NXM (OpenFlow 1.0) and OXM (1.3) alike, instead of
/// being dumped wider than it is.
/// </summary>
public sealed class ConntrackTupleMatchTests
{
    [Theory]
    [InlineData("ct_state=+est+trk,ct_nw_proto=6,ct_nw_src=10.0.0.1,ct_nw_dst=10.1.0.0/16,ct_tp_src=1025,ct_tp_dst=80,ip actions=drop")]
    [InlineData("ct_state=+est+trk,ct_ipv6_src=fd00::1,ct_ipv6_dst=fd00::/64,ipv6 actions=drop")]
    public void A_match_on_the_original_tuple_encodes_and_decodes_back_to_itself(string line)
    {
        var flow = FlowParser.ParseLine(line);
        foreach (bool oxm in new[] { false, true })
        {
            var w = new OfpWriter();
            OxmCodec.Encode(w, flow.Match, oxm);
            var decoded = OxmCodec.Decode(w.Written, out _, out _);
            Assert.Equal(MatchFormatter.Format(flow.Match, 32768), MatchFormatter.Format(decoded, 32768));
            Assert.Equal(flow.Match, decoded);
        }
    }

    [Fact]
    public void The_original_tuple_without_a_tracked_state_is_refused_with_its_prerequisite()
    {
        var tracked = FlowParser.ParseLine("ct_state=+est+trk,ct_nw_src=10.0.0.1,ip actions=drop");
        var w = new OfpWriter();
        OxmCodec.Encode(w, tracked.Match, oxm: false);
        byte[] bytes = w.ToArray();

        // Drop the leading NXM_NX_CT_STATE TLV (4-byte header, 4-byte value, 4-byte mask).
        var refused = Assert.Throws<OfpException>(() => OxmCodec.Decode(bytes.AsSpan(12), out _, out _));
        Assert.Equal(OfpErrorKind.BadMatchPrerequisite, refused.Kind);
        Assert.Contains("ct_nw_src", refused.Message, StringComparison.Ordinal);
    }
}
