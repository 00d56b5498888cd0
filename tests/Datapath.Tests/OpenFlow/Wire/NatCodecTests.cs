using Datapath.OpenFlow;
using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Wire;
using Datapath.Tests.Support;

namespace Datapath.Tests.OpenFlow.Wire;

/// <summary>
/// ct(...,nat(...)) on the wire (NXAST_NAT nested in NXAST_CT): every flow of the NAT tables
/// encodes and decodes back to itself in OpenFlow 1.0 and 1.3, so a NAT table dumped to ovs-ofctl
/// or added by it loses nothing; malformed NAT actions are refused with an OpenFlow error.
/// (Against Open vSwitch's own encoding: OvsOfctlTests adds nat.flows with ovs-ofctl and diffs it.)
/// </summary>
public sealed class NatCodecTests
{
    public static TheoryData<string> NatTables => new() { Path.Combine("nat", "nat.flows"), Path.Combine("nat-extra", "nat-extra.flows") };

    [Theory]
    [MemberData(nameof(NatTables))]
    public void Every_flow_of_a_nat_table_encodes_and_decodes_back_to_itself(string file)
    {
        var flows = FlowParser.ParseFile(File.ReadAllText(TestData.Capture(file)), file);
        Assert.Contains(flows, f => f.Actions.OfType<ConntrackAction>().Any(ct => ct.Nat is { HasAddress: true, IsIpv6: true }));
        Assert.Contains(flows, f => f.Actions.OfType<ConntrackAction>().Any(ct => ct.Nat is { HasPorts: true } nat && nat.MaxPort != nat.MinPort));
        foreach (byte version in new[] { OfpVersion.Of10, OfpVersion.Of13 })
        {
            foreach (var flow in flows)
            {
                var w = new OfpWriter();
                ActionEncoder.EncodeList(w, flow.Actions, version, flow.Match);
                var decoded = ActionDecoder.DecodeActions(w.Written, version, flow.Match, flow.Table);
                Assert.Equal(ActionFormatter.Format(flow.Actions), ActionFormatter.Format(decoded));
                Assert.Equal(flow.Actions, decoded);
            }
        }
    }

    [Theory]
    [InlineData("0003", "0000", "src and dst")]
    [InlineData("0019", "0000", "hash and random")]
    [InlineData("0020", "0000", "an unknown flag")]
    [InlineData("0004", "0000", "persistent without src or dst")]
    [InlineData("0001", "0002", "an IPv4 max without its min")]
    [InlineData("0001", "0005", "both families")]
    [InlineData("0001", "0010", "a port without an address")]
    [InlineData("0001", "0040", "an unknown range bit")]
    public void A_malformed_nat_is_an_openflow_error(string flags, string present, string what)
    {
        var w = new OfpWriter();
        var ct = new ConntrackAction(true, 0, null, null, []);
        ActionEncoder.EncodeList(w, [ct], OfpVersion.Of13);
        byte[] ctBytes = w.ToArray();

        // ct's header followed by one NXAST_NAT of 24 bytes (16 + an IPv4 address + padding).
        byte[] nat = Convert.FromHexString($"ffff00180000232000240000{flags}{present}0a00000100000000");
        byte[] actions = [.. ctBytes, .. nat];
        actions[3] = (byte)actions.Length;
        var match = FlowParser.ParseLine("ip actions=drop").Match;

        var refused = Assert.Throws<OfpException>(() => ActionDecoder.DecodeActions(actions, OfpVersion.Of13, match, 0));
        Assert.True(refused.Kind == OfpErrorKind.BadActionArgument, what);
        Assert.StartsWith("nat:", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_nat_range_needs_a_rule_of_its_family()
    {
        var v6 = FlowParser.ParseLine("ipv6 actions=ct(commit,nat(src=2001:db8::1))");
        var w = new OfpWriter();
        ActionEncoder.EncodeList(w, v6.Actions, OfpVersion.Of13, v6.Match);
        var ip = FlowParser.ParseLine("ip actions=drop").Match;

        var refused = Assert.Throws<OfpException>(() => ActionDecoder.DecodeActions(w.Written, OfpVersion.Of13, ip, 0));
        Assert.Equal(OfpErrorKind.BadActionMatchInconsistent, refused.Kind);
    }
}
