using Datapath.Actions;
using Datapath.Caches;
using Datapath.Flow;
using Datapath.OpenFlow.Tables;
using Datapath.Packets;
using Datapath.Pipeline;
using Datapath.Stats;
using Datapath.Tests.OpenFlow;

namespace Datapath.Tests.Pipeline;

/// <summary>
/// Revalidation after the OpenFlow tables, the ports or the learned MACs change: no packet is
/// forwarded by a stale megaflow or EMC entry, unaffected megaflows survive, and the
/// recirculation ids of removed megaflows are released.
/// </summary>
public sealed class RevalidationTests
{
    private const string Est1 = "ct_state=+est+trk,ip,in_port=1";
    private const string Est2 = "ct_state=+est+trk,ip,in_port=2";

    public static TheoryData<string, string> CapturesAndChanges()
    {
        var data = new TheoryData<string, string>();
        foreach (string capture in new[] { "tcp-http", "udp-dns", "icmp" })
        {
            foreach (string change in new[] { "drop-port-1", "redirect-to-port-3", "delete-est", "ct-zone-7" })
            {
                data.Add(capture, change);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CapturesAndChanges))]
    public void After_a_table_change_and_revalidation_every_packet_follows_the_new_table(string capture, string change)
    {
        var frames = CaptureFrame.Read(capture + ".pcap");
        int split = frames.Count / 3;
        var rig = new FirewallRig(emcInsertInvProb: 1);
        var oracle = new UncachedFirewall();
        foreach (var frame in frames.Take(split))
        {
            Assert.Equal(oracle.Send(frame), rig.Send(frame));
        }

        Change(rig.Tables, change);
        Change(oracle.Tables, change);
        rig.Revalidate(frames[split].TimeMs);

        var expected = frames.Skip(split).Select(f => $"{f.Number} {oracle.Send(f)}").ToList();
        var actual = frames.Skip(split).Select(f => $"{f.Number} {rig.Send(f)}").ToList();
        Assert.Equal(expected, actual);
        rig.AssertRecircReferencesMatchInstalledFlows();
    }

    [Theory]
    [InlineData("drop-port-1")]
    [InlineData("redirect-to-port-3")]
    [InlineData("delete-est")]
    [InlineData("ct-zone-7")]
    public void Without_revalidation_the_stale_megaflows_would_forward_differently(string change)
    {
        // The control of the test above: the change matters to this traffic.
        var frames = CaptureFrame.Read("tcp-http.pcap");
        int split = frames.Count / 3;
        var rig = new FirewallRig(emcInsertInvProb: 1);
        var oracle = new UncachedFirewall();
        foreach (var frame in frames.Take(split))
        {
            rig.Send(frame);
            oracle.Send(frame);
        }

        Change(rig.Tables, change);
        Change(oracle.Tables, change);

        var expected = frames.Skip(split).Select(oracle.Send).ToList();
        var actual = frames.Skip(split).Select(f => rig.Send(f)).ToList();
        Assert.NotEqual(expected, actual);
    }

    [Fact]
    public void Megaflows_the_change_does_not_affect_survive_and_the_affected_ones_go()
    {
        var rig = Established();
        var before = rig.Megaflows();
        int affected = before.Count(f => f.Key.RecircId != 0 && f.Key.InPort == 1 && (f.Key.CtState & CtState.Established) != 0);
        Assert.True(affected > 0);
        Assert.True(before.Count > affected);
        long retranslations = rig.Revalidator.Retranslations;

        rig.Tables.AddFlows($"table=1, {Est1} actions=drop", "change.flows");
        var result = rig.Revalidate(1_000);

        Assert.Equal(new RevalidationResult(before.Count, before.Count - affected, affected, 0), result);
        var after = rig.Megaflows();
        Assert.Equal(before.Count - affected, after.Count);
        Assert.All(before.Except(after), f => Assert.True(f.IsDead));
        Assert.All(after, f => Assert.Contains(f, before));
        Assert.Equal(before.Count, rig.Revalidator.Retranslations - retranslations);
        rig.AssertRecircReferencesMatchInstalledFlows();
    }

    [Fact]
    public void A_pass_with_nothing_changed_since_the_last_translates_nothing_and_removes_nothing()
    {
        var rig = Established();
        int count = rig.Classifier.Count;
        long retranslations = rig.Revalidator.Retranslations;

        var result = rig.Revalidate(2_000);

        Assert.Equal(new RevalidationResult(count, count, 0, 0), result);
        Assert.Equal(retranslations, rig.Revalidator.Retranslations);
    }

    [Fact]
    public void A_replaced_rule_with_the_same_actions_keeps_its_megaflows_and_takes_their_statistics()
    {
        var rig = Established();
        int count = rig.Classifier.Count;
        var frames = CaptureFrame.Read("tcp-http.pcap");

        rig.Tables.AddFlows($"table=1, {Est2} actions=output:1", "same.flows");
        var result = rig.Revalidate(1_000);
        var replacement = rig.Tables.AllRules().Single(r => r.Entry.ToString().Contains(Est2, StringComparison.Ordinal));
        foreach (var frame in frames.Skip(40))
        {
            rig.Send(frame, 2_000);
        }

        // captures/README.md: every IPv4 packet of h2 in tcp-http is +est.
        int fromPort2 = frames.Skip(40).Count(f => f.Port == 2 && IsIpv4(f));

        rig.Datapath.Core.PushStatistics(rig.Revalidator);

        Assert.Equal(count, result.Kept);
        Assert.Equal(fromPort2, replacement.Packets);
    }

    [Fact]
    public void A_change_of_learned_addresses_retranslates_only_the_megaflows_that_used_NORMAL()
    {
        var rig = Established();
        var flows = rig.Megaflows();
        int arp = flows.Count(f => f.Key.EthType == EtherTypes.Arp);
        Assert.True(arp > 0);
        long retranslations = rig.Revalidator.Retranslations;

        // A new address elsewhere changes the generation but no ARP megaflow's answer.
        rig.Translator.Macs.Learn(0, 0x02_00_00_00_00_09, 2);
        var unaffected = rig.Revalidate(1_000);

        Assert.Equal(arp, rig.Revalidator.Retranslations - retranslations);
        Assert.Equal(0, unaffected.Removed);

        // h2 moves to port 1: whatever was sent to it from port 1 must not go to port 2 any more.
        rig.Translator.Macs.Learn(0, Datapath.Replay.ReplayPorts.OutsideMac, 1);
        int toH2FromPort1 = flows.Count(f => f.Key.EthType == EtherTypes.Arp && f.Key.EthDst == Datapath.Replay.ReplayPorts.OutsideMac && f.Key.InPort == 1);
        var moved = rig.Revalidate(1_000);

        Assert.Equal(2 * arp, rig.Revalidator.Retranslations - retranslations);
        Assert.Equal(toH2FromPort1, moved.RemovedChanged);
    }

    [Fact]
    public void A_port_change_removes_the_flooding_megaflows_and_keeps_the_rest()
    {
        var rig = Established();
        var flows = rig.Megaflows();
        int arp = flows.Count(f => f.Key.EthType == EtherTypes.Arp);
        int broadcast = flows.Count(f => f.Key.EthType == EtherTypes.Arp && f.Key.EthDst == 0xff_ff_ff_ff_ff_ff);
        Assert.True(broadcast > 0);
        long retranslations = rig.Revalidator.Retranslations;

        rig.Translator.Ports = [1, 2, 3];
        var result = rig.Revalidate(1_000);

        Assert.Equal(arp, rig.Revalidator.Retranslations - retranslations);
        Assert.Equal(broadcast, result.RemovedChanged);
        Assert.Equal(flows.Count - broadcast, result.Kept);
    }

    [Fact]
    public void Removed_first_pass_megaflows_release_their_recirculation_ids_and_take_the_recirculated_megaflows_with_them()
    {
        var rig = Established();
        var ids = rig.Megaflows().Where(f => f.Key.RecircId == 0).SelectMany(RecircIds).Distinct().ToList();
        Assert.NotEmpty(ids);
        Assert.All(ids, id => Assert.True(rig.Recirc.References(id) > 0));

        Change(rig.Tables, "ct-zone-7");
        rig.Revalidate(1_000);

        // Every first-pass IP megaflow changed (zone 7); none is left holding or matching the old ids.
        Assert.All(ids, id => Assert.Equal(0, rig.Recirc.References(id)));
        Assert.DoesNotContain(rig.Megaflows(), f => f.Key.RecircId != 0);
        Assert.Equal(0, rig.Recirc.Count);
        rig.AssertRecircReferencesMatchInstalledFlows();
    }

    [Fact]
    public void Revalidation_refuses_to_run_in_the_middle_of_a_batch()
    {
        var rig = new FirewallRig();
        var frame = CaptureFrame.Read("tcp-http.pcap").First(f => f.Port == 1 && IsIpv4(f));
        var sink = new RevalidatingSink(rig);
        Assert.True(rig.Datapath.TryReceive(frame.Bytes, 1, out var packet));
        var batch = new PacketBatch();
        batch.Add(packet);

        rig.Datapath.Process(batch, 0, sink);

        Assert.IsType<InvalidOperationException>(sink.Error);
    }

    [Fact]
    public void Revalidation_counters_add_up_over_passes()
    {
        var rig = Established();
        int count = rig.Classifier.Count;
        rig.Tables.AddFlows($"table=1, {Est1} actions=drop", "change.flows");
        var first = rig.Revalidate(1_000);
        var second = rig.Revalidate(60_000);

        // Established() ran one pass over the same megaflows, which kept them all.
        var stats = rig.Datapath.Core.Pipeline.RevalidationStats;
        Assert.Equal(3, stats.Passes);
        Assert.Equal(2 * count, stats.Checked);
        Assert.Equal(0, second.Checked);
        Assert.Equal(first.RemovedChanged, stats.RemovedChanged);
        Assert.Equal(first.Kept, stats.RemovedIdle);
        var text = new System.Text.StringBuilder();
        stats.Format(text);
        Assert.Contains($"megaflows removed (idle): {first.Kept}", text.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// The first 40 frames of tcp-http (ARP and two connections) through the firewall, at time 0,
    /// then one revalidation so that what the upcalls themselves learned is settled.
    /// </summary>
    internal static FirewallRig Established()
    {
        var rig = new FirewallRig();
        foreach (var frame in CaptureFrame.Read("tcp-http.pcap").Take(40))
        {
            rig.Send(frame, 0);
        }

        rig.Revalidate(0);
        return rig;
    }

    internal static bool IsIpv4(CaptureFrame frame) => frame.Bytes[12] == 0x08 && frame.Bytes[13] == 0x00;

    private static IEnumerable<uint> RecircIds(Megaflow flow)
    {
        var ids = new List<uint>();
        foreach (var action in flow.Actions.Actions)
        {
            if (action.Kind == ActionKind.Recirculate)
            {
                ids.Add(action.RecircId);
            }
        }

        return ids;
    }

    private static void Change(OpenFlowTables tables, string change)
    {
        switch (change)
        {
            case "drop-port-1":
                tables.AddFlows($"table=1, {Est1} actions=drop", "change.flows");
                break;
            case "redirect-to-port-3":
                tables.AddFlows($"table=1, {Est1} actions=output:3\ntable=1, {Est2} actions=output:3", "change.flows");
                break;
            case "delete-est":
                foreach (var rule in tables.AllRules().Where(r => r.Entry.ToString().Contains("+est", StringComparison.Ordinal)).ToList())
                {
                    tables.Remove(rule);
                }

                break;
            case "ct-zone-7":
                tables.AddFlows("table=0, priority=100,ct_state=-trk,ip actions=ct(zone=7,table=1)", "change.flows");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(change), change, null);
        }
    }

    private sealed class RevalidatingSink(FirewallRig rig) : IPacketSink
    {
        public Exception? Error { get; private set; }

        public void Transmit(uint port, Packet packet)
        {
            try
            {
                rig.Revalidate(0);
            }
            catch (InvalidOperationException e)
            {
                Error = e;
            }
        }
    }
}
