using Datapath.OpenFlow.Tables;

namespace Datapath.Tests.Pipeline;

/// <summary>
/// The recirculation bypass never changes what happens to a packet (issue 6, "Safety"): each
/// scenario runs one packet sequence with the bypass off and in each of its three modes, and the
/// <see cref="BypassRig"/> asserts identical verdicts per packet; the rule counters must read the same
/// after a push, and the bypass lanes must really have used bypass flows.
/// </summary>
public sealed class BypassSafetyTests
{
    private const string Est1 = "ct_state=+est+trk,ip,in_port=1";

    [Fact]
    public void An_established_udp_stream_both_ways_hits_bypass_flows_with_the_verdicts_and_rule_counters_of_no_bypass()
    {
        var rig = new BypassRig();
        var verdicts = new List<string>();
        for (int i = 0; i < 20; i++)
        {
            verdicts.Add(Send(rig, BypassFrames.Udp(1, 40000, 53), i));
            verdicts.Add(Send(rig, BypassFrames.Udp(2, 40000, 53), i));
        }

        Assert.All(verdicts.Where((_, i) => i % 2 == 0), v => Assert.Equal("2", v));
        Assert.All(verdicts.Where((_, i) => i % 2 == 1), v => Assert.Equal("1", v));
        rig.AssertBypassTookPart();
        foreach (var lane in rig.BypassLanes)
        {
            // One bypass flow per direction; every later packet of the stream hits one.
            Assert.Equal(2, lane.Stats.BypassInstalls);
            Assert.True(lane.Stats.BypassHits >= 36, $"{lane.Mode}: {lane.Stats.BypassHits} hits");
            Assert.Equal(0, lane.Stats.BypassGuardFallbacks + lane.Stats.BypassRevocations);
        }

        rig.AssertSameRuleStatistics();
    }

    [Fact]
    public void A_tcp_reset_between_data_segments_gives_the_verdicts_of_no_bypass_and_revokes_the_bypass_flows()
    {
        var rig = new BypassRig();
        var tcp = new TcpSession(1, 33000, 80);
        long t = 0;
        SendAll(rig, tcp.Handshake(), ref t);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal("2", Send(rig, tcp.Data(fromClient: true), t++));
            Assert.Equal("1", Send(rig, tcp.Data(fromClient: false), t++));
        }

        long hitsBeforeReset = rig.On.Stats.BypassHits;
        Send(rig, tcp.Rst(fromClient: false), t++);
        for (int i = 0; i < 4; i++)
        {
            Send(rig, tcp.Data(fromClient: true), t++);
            Send(rig, tcp.Data(fromClient: false), t++);
        }

        Assert.True(hitsBeforeReset > 0);
        rig.AssertBypassTookPart();
        AssertRevokedOrFellBack(rig);
        rig.AssertSameRuleStatistics();
    }

    [Fact]
    public void A_tcp_reset_between_two_data_segments_of_one_batch_gives_the_verdicts_of_no_bypass()
    {
        var rig = new BypassRig();
        var tcp = new TcpSession(1, 33003, 80);
        long t = 0;
        SendAll(rig, tcp.Handshake(), ref t);
        for (int i = 0; i < 4; i++)
        {
            Send(rig, tcp.Data(fromClient: true), t++);
            Send(rig, tcp.Data(fromClient: false), t++);
        }

        var first = tcp.Data(fromClient: true);
        var reset = tcp.Rst(fromClient: false);
        var second = tcp.Data(fromClient: true);
        var verdicts = rig.SendBatch([first, reset, second], t++);

        Assert.Equal("2", verdicts[0]);
        rig.AssertBypassTookPart();
        rig.AssertSameRuleStatistics();
    }

    [Fact]
    public void A_fin_teardown_then_a_late_data_segment_gives_the_verdicts_of_no_bypass()
    {
        var rig = new BypassRig();
        var tcp = new TcpSession(1, 33001, 80);
        long t = 0;
        SendAll(rig, tcp.Handshake(), ref t);
        for (int i = 0; i < 4; i++)
        {
            Send(rig, tcp.Data(fromClient: true), t++);
            Send(rig, tcp.Data(fromClient: false), t++);
        }

        Send(rig, tcp.Fin(fromClient: true), t++);
        Send(rig, tcp.Fin(fromClient: false), t++);
        Send(rig, tcp.Ack(fromClient: true), t++);
        Send(rig, tcp.Data(fromClient: true), t++);
        Send(rig, tcp.Data(fromClient: false), t++);
        Send(rig, tcp.OutOfWindow(fromClient: false), t++);

        rig.AssertBypassTookPart();
        AssertRevokedOrFellBack(rig);
        rig.AssertSameRuleStatistics();
    }

    [Fact]
    public void An_expired_udp_connection_found_by_a_lookup_drops_the_next_packet_from_port_2()
    {
        var rig = EstablishedUdp(40001);

        // An established UDP connection lives 30 s after its last packet (Open vSwitch's udp_multiple).
        long later = 4 + 31_000;
        Assert.Equal("drop", Send(rig, BypassFrames.Udp(2, 40001, 53), later));
        Assert.Equal("2", Send(rig, BypassFrames.Udp(1, 40001, 53), later + 1));
        Assert.Equal("1", Send(rig, BypassFrames.Udp(2, 40001, 53), later + 2));

        rig.AssertBypassTookPart();
        AssertRevokedOrFellBack(rig);
        rig.AssertSameRuleStatistics();
    }

    [Fact]
    public void An_expired_udp_connection_removed_by_a_sweep_takes_its_bypass_flows_and_drops_the_next_packet_from_port_2()
    {
        var rig = EstablishedUdp(40011);

        long later = 4 + 31_000;
        Assert.Equal(1, rig.SweepConntrack(later));
        Assert.All(rig.PerConnectionLanes, lane => Assert.Equal(0, lane.Datapath.Core.Bypass.Count));
        Assert.All(rig.PerConnectionLanes, lane => Assert.Equal(2, lane.Stats.BypassRevocations));

        Assert.Equal("drop", Send(rig, BypassFrames.Udp(2, 40011, 53), later));
        Assert.Equal("2", Send(rig, BypassFrames.Udp(1, 40011, 53), later + 1));
        Assert.Equal("1", Send(rig, BypassFrames.Udp(2, 40011, 53), later + 2));

        rig.AssertBypassTookPart();
        Assert.All(rig.PerConnectionLanes, lane => Assert.Equal(0, lane.Stats.BypassGuardFallbacks));
        rig.AssertSameRuleStatistics();
    }

    [Fact]
    public void A_modified_flow_after_bypass_flows_exist_drops_the_next_packets_in_every_lane()
    {
        var rig = new BypassRig();
        for (int i = 0; i < 5; i++)
        {
            Send(rig, BypassFrames.Udp(1, 40002, 53), i);
            Send(rig, BypassFrames.Udp(2, 40002, 53), i);
        }

        Assert.All(rig.BypassLanes, lane => Assert.True(lane.Stats.BypassHits > 0));
        rig.ChangeTables(tables => tables.AddFlows($"table=1, {Est1} actions=drop", "change.flows"), 10);

        Assert.Equal("drop", Send(rig, BypassFrames.Udp(1, 40002, 53), 11));
        Assert.Equal("1", Send(rig, BypassFrames.Udp(2, 40002, 53), 12));
        Assert.Equal("drop", Send(rig, BypassFrames.Udp(1, 40002, 53), 13));

        rig.AssertBypassTookPart();
        Assert.All(rig.PerConnectionLanes, lane => Assert.True(lane.Stats.BypassRevocations > 0, $"{lane.Mode}: nothing revoked"));
        rig.AssertSameRuleStatistics();
    }

    [Fact]
    public void A_deleted_flow_after_bypass_flows_exist_stops_forwarding_in_every_lane()
    {
        var rig = new BypassRig();
        for (int i = 0; i < 5; i++)
        {
            Send(rig, BypassFrames.Udp(1, 40003, 53), i);
            Send(rig, BypassFrames.Udp(2, 40003, 53), i);
        }

        rig.ChangeTables(RemoveEstablishedRules, 10);

        Assert.Equal("drop", Send(rig, BypassFrames.Udp(1, 40003, 53), 11));
        Assert.Equal("drop", Send(rig, BypassFrames.Udp(2, 40003, 53), 12));

        rig.AssertBypassTookPart();
        Assert.All(rig.PerConnectionLanes, lane => Assert.True(lane.Stats.BypassRevocations > 0, $"{lane.Mode}: nothing revoked"));
        rig.AssertSameRuleStatistics();
    }

    [Fact]
    public void A_conntrack_flush_between_packets_drops_port_2_as_new_and_lets_port_1_commit_again()
    {
        var rig = new BypassRig();
        var tcp = new TcpSession(1, 33002, 80);
        long t = 0;
        SendAll(rig, tcp.Handshake(), ref t);
        for (int i = 0; i < 4; i++)
        {
            Send(rig, BypassFrames.Udp(1, 40004, 53), t);
            Send(rig, BypassFrames.Udp(2, 40004, 53), t);
            Send(rig, tcp.Data(fromClient: true), t++);
            Send(rig, tcp.Data(fromClient: false), t++);
        }

        rig.FlushConntrack();

        Assert.Equal("drop", Send(rig, BypassFrames.Udp(2, 40004, 53), t++));
        Assert.Equal("2", Send(rig, BypassFrames.Udp(1, 40004, 53), t++));
        Assert.Equal("1", Send(rig, BypassFrames.Udp(2, 40004, 53), t++));
        Send(rig, tcp.Data(fromClient: false), t++);
        Send(rig, tcp.Data(fromClient: true), t++);
        Send(rig, tcp.Data(fromClient: false), t++);

        rig.AssertBypassTookPart();
        Assert.All(rig.PerConnectionLanes, lane => Assert.True(lane.Stats.BypassRevocations >= 4, $"{lane.Mode}: {lane.Stats.BypassRevocations} revoked"));
        rig.AssertSameRuleStatistics();
    }

    /// <summary>
    /// Zone 5, marks set by ct(commit,exec(...)), and table-1 flows that choose by ct_mark and
    /// ct_zone: a packet with TOS 0x20 re-commits its established connection with mark 2 while both
    /// directions have bypass flows guarded on mark 1, so the next packets must leave by the mark-2
    /// flows (port 1's to port 3, port 2's dropped), never by a bypass flow.
    /// </summary>
    [Fact]
    public void A_commit_that_changes_the_mark_of_an_established_connection_mid_stream_gives_the_verdicts_of_no_bypass()
    {
        var rig = new BypassRig(MarkFlows);
        long t = 0;
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal("2", Send(rig, BypassFrames.Udp(1, 40005, 53), t++));
            Assert.Equal("1", Send(rig, BypassFrames.Udp(2, 40005, 53), t++));
        }

        Assert.All(rig.BypassLanes, lane => Assert.True(lane.Stats.BypassHits > 0));
        Assert.Equal("2", Send(rig, BypassFrames.Udp(1, 40005, 53, tos: 0x20), t++));

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("3", Send(rig, BypassFrames.Udp(1, 40005, 53), t++));
            Assert.Equal("drop", Send(rig, BypassFrames.Udp(2, 40005, 53), t++));
        }

        rig.AssertBypassTookPart();
        AssertRevokedOrFellBack(rig);
        rig.AssertSameRuleStatistics();
    }

    [Fact]
    public void A_mark_change_in_the_same_batch_as_bypass_hits_gives_the_verdicts_of_no_bypass()
    {
        var rig = new BypassRig(MarkFlows);
        long t = 0;
        for (int i = 0; i < 5; i++)
        {
            Send(rig, BypassFrames.Udp(1, 40006, 53), t++);
            Send(rig, BypassFrames.Udp(2, 40006, 53), t++);
        }

        var verdicts = rig.SendBatch(
        [
            BypassFrames.Udp(2, 40006, 53),
            BypassFrames.Udp(1, 40006, 53, tos: 0x20),
            BypassFrames.Udp(1, 40006, 53),
            BypassFrames.Udp(2, 40006, 53),
        ], t++);
        var after = rig.SendBatch([BypassFrames.Udp(1, 40006, 53), BypassFrames.Udp(2, 40006, 53)], t++);

        Assert.Equal("2", verdicts[1]);
        Assert.Equal(["3", "drop"], after);
        rig.AssertBypassTookPart();
        AssertRevokedOrFellBack(rig);
        rig.AssertSameRuleStatistics();
    }

    [Fact]
    public void Connections_in_another_zone_do_not_pass_the_guard_of_a_zone_5_flow()
    {
        // Moving the first ct to zone 7 makes the zone-5 rules miss: the bypass flows built for zone 5 must not forward.
        var rig = new BypassRig(MarkFlows);
        long t = 0;
        for (int i = 0; i < 5; i++)
        {
            Send(rig, BypassFrames.Udp(1, 40007, 53), t++);
            Send(rig, BypassFrames.Udp(2, 40007, 53), t++);
        }

        rig.ChangeTables(tables => tables.AddFlows("table=0, priority=100,ct_state=-trk,ip actions=ct(zone=7,table=1)", "change.flows"), t);

        Assert.Equal("drop", Send(rig, BypassFrames.Udp(1, 40007, 53), t++));
        Assert.Equal("drop", Send(rig, BypassFrames.Udp(2, 40007, 53), t++));

        rig.AssertBypassTookPart();
        Assert.All(rig.PerConnectionLanes, lane => Assert.True(lane.Stats.BypassRevocations > 0, $"{lane.Mode}: nothing revoked"));
        rig.AssertSameRuleStatistics();
    }

    /// <summary>The firewall in zone 5 with marks: new connections from port 1 are committed with mark 1; TOS 0x20 re-commits with mark 2.</summary>
    internal const string MarkFlows = """
        table=0, priority=100,ct_state=-trk,ip actions=ct(zone=5,table=1)
        table=0, priority=10,arp actions=NORMAL
        table=0, priority=1 actions=drop
        table=1, priority=10,ct_state=+new+trk,ct_zone=5,ip,in_port=1 actions=ct(commit,zone=5,exec(set_field:0x1->ct_mark)),output:2
        table=1, priority=10,ct_state=+new+trk,ip,in_port=2 actions=drop
        table=1, priority=20,ct_state=+est+trk,ct_zone=5,ct_mark=0x1,ip,in_port=1 actions=output:2
        table=1, priority=20,ct_state=+est+trk,ct_zone=5,ct_mark=0x1,ip,in_port=2 actions=output:1
        table=1, priority=30,ct_state=+est+trk,ct_zone=5,ct_mark=0x1,ip,in_port=1,nw_tos=32 actions=ct(commit,zone=5,exec(set_field:0x2->ct_mark)),output:2
        table=1, priority=20,ct_state=+est+trk,ct_zone=5,ct_mark=0x2,ip,in_port=1 actions=output:3
        table=1, priority=20,ct_state=+est+trk,ct_zone=5,ct_mark=0x2,ip,in_port=2 actions=drop
        """;

    internal static void RemoveEstablishedRules(OpenFlowTables tables)
    {
        foreach (var rule in tables.AllRules().Where(r => r.Entry.ToString().Contains("+est", StringComparison.Ordinal)).ToList())
        {
            tables.Remove(rule);
        }
    }

    /// <summary>Five UDP exchanges of one connection at times 0 to 4: both directions have bypass flows.</summary>
    private static BypassRig EstablishedUdp(ushort h1Port)
    {
        var rig = new BypassRig();
        for (int i = 0; i < 5; i++)
        {
            Send(rig, BypassFrames.Udp(1, h1Port, 53), i);
            Send(rig, BypassFrames.Udp(2, h1Port, 53), i);
        }

        return rig;
    }

    private static string Send(BypassRig rig, (byte[] Frame, uint Port) frame, long nowMs) => rig.Send(frame.Frame, frame.Port, nowMs);

    private static void SendAll(BypassRig rig, IEnumerable<(byte[] Frame, uint Port)> frames, ref long t)
    {
        foreach (var frame in frames)
        {
            Send(rig, frame, t++);
        }
    }

    // Masked bypass flows (megaflow mode) are shared and never revoked per connection: their lane proves itself by
    // giving the same verdicts, packet by packet.
    private static void AssertRevokedOrFellBack(BypassRig rig) =>
        Assert.All(rig.PerConnectionLanes, lane => Assert.True(
            lane.Stats.BypassRevocations + lane.Stats.BypassGuardFallbacks > 0,
            $"{lane.Mode}: no bypass flow was revoked and no guard failed"));
}
