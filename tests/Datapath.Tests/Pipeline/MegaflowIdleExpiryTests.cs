using Datapath.Flow;
using Datapath.Tests.Support;

namespace Datapath.Tests.Pipeline;

/// <summary>Revalidation passes expire megaflows no packet used for the idle time (virtual time).</summary>
public sealed class MegaflowIdleExpiryTests
{
    [Fact]
    public void Megaflows_idle_for_ten_seconds_are_removed_and_release_their_recirculation_ids()
    {
        var rig = RevalidationTests.Established();
        var flows = rig.Megaflows();
        Assert.True(rig.Recirc.Count > 0);

        var early = rig.Revalidate(9_999);
        var due = rig.Revalidate(10_000);

        Assert.Equal(0, early.RemovedIdle);
        Assert.Equal(new Datapath.Stats.RevalidationResult(0, 0, 0, flows.Count), due);
        Assert.Equal(0, rig.Classifier.Count);
        Assert.All(flows, f => Assert.True(f.IsDead));
        Assert.Equal(0, rig.Recirc.Count);
    }

    [Fact]
    public void A_megaflow_used_recently_outlives_an_idle_one()
    {
        var rig = new FirewallRig();
        var frames = CaptureFrame.Read("tcp-http.pcap").Take(40).ToList();
        foreach (var frame in frames)
        {
            rig.Send(frame, RevalidationTests.IsIpv4(frame) ? 6_000 : 0);
        }

        int arp = rig.Megaflows().Count(f => f.Key.EthType == EtherTypes.Arp);
        int ip = rig.Megaflows().Count(f => f.Key.EthType == EtherTypes.Ipv4);
        Assert.True(arp > 0 && ip > 0);

        var first = rig.Revalidate(10_000);

        Assert.Equal(arp, first.RemovedIdle);
        Assert.Equal(ip, first.Kept);
        Assert.DoesNotContain(rig.Megaflows(), f => f.Key.EthType == EtherTypes.Arp);

        var second = rig.Revalidate(16_000);

        Assert.Equal(ip, second.RemovedIdle);
        rig.AssertRecircReferencesMatchInstalledFlows();
    }

    [Fact]
    public void The_idle_time_is_configurable()
    {
        var rig = new FirewallRig(idleMs: 500);
        foreach (var frame in CaptureFrame.Read("tcp-http.pcap").Take(10))
        {
            rig.Send(frame, 0);
        }

        int count = rig.Classifier.Count;

        Assert.Equal(0, rig.Revalidate(499).RemovedIdle);
        Assert.Equal(count, rig.Revalidate(500).RemovedIdle);
    }

    [Theory]
    [InlineData("tcp-http")]
    [InlineData("udp-dns")]
    [InlineData("icmp")]
    public void Expiring_every_megaflow_midway_changes_no_verdict(string capture)
    {
        var rig = new FirewallRig(emcInsertInvProb: 1);
        var verdicts = new List<string>();
        var frames = CaptureFrame.Read(capture + ".pcap");
        for (int i = 0; i < frames.Count; i++)
        {
            if (i % 10 == 9)
            {
                Assert.Equal(rig.Classifier.Count, rig.Revalidate(frames[i].TimeMs + 10_000).RemovedIdle);
                Assert.Equal(0, rig.Recirc.Count);
            }

            verdicts.Add($"{frames[i].Number} {frames[i].Port} -> {rig.Send(frames[i])}");
        }

        Assert.Equal(File.ReadAllLines(TestData.Capture(Path.Combine("expected", capture + ".verdict"))), verdicts);
    }
}
