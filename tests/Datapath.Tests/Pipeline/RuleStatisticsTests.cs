using System.Buffers.Binary;
using System.Text.RegularExpressions;

namespace Datapath.Tests.Pipeline;

/// <summary>
/// OpenFlow rule statistics credited from megaflows, as Open vSwitch's revalidator pushes them:
/// each packet once, to the rules of every pass it made (table 0 on the first pass, table 1 after
/// recirculation), so dump-flows reads like Open vSwitch's.
/// </summary>
public sealed partial class RuleStatisticsTests
{
    private const string CtRule = "table=0, priority=100,ct_state=-trk,ip actions=ct(table=1)";
    private const string ArpRule = "table=0, priority=10,arp actions=NORMAL";
    private const string DropRule = "table=0, priority=1 actions=drop";
    private const string New1 = "table=1, ct_state=+new+trk,ip,in_port=1 actions=ct(commit),output:2";
    private const string New2 = "table=1, ct_state=+new+trk,ip,in_port=2 actions=drop";
    private const string Est1 = "table=1, ct_state=+est+trk,ip,in_port=1 actions=output:2";
    private const string Est2 = "table=1, ct_state=+est+trk,ip,in_port=2 actions=output:1";

    [Theory]
    [InlineData("tcp-http", 100)]
    [InlineData("tcp-http", 1)]
    [InlineData("tcp-http", 0)]
    [InlineData("tcp-long", 100)]
    public void Dump_flows_counts_after_a_push_equal_the_counts_derived_from_the_capture(string capture, int emcInsertInvProb)
    {
        var frames = CaptureFrame.Read(capture + ".pcap");
        var rig = new FirewallRig(emcInsertInvProb);
        foreach (var frame in frames)
        {
            rig.Send(frame);
        }

        rig.Datapath.Core.PushStatistics(rig.Revalidator);

        Assert.Equal(Derive(frames), Dump(rig.Tables.DumpFlows()));
    }

    [Fact]
    public void Before_the_push_the_rules_hold_only_the_packets_that_caused_upcalls()
    {
        var frames = CaptureFrame.Read("tcp-http.pcap");
        var rig = new FirewallRig(100);
        foreach (var frame in frames)
        {
            rig.Send(frame);
        }

        long upcalls = rig.Datapath.Core.Pipeline.Stats.UpcallsOk;
        long credited = Dump(rig.Tables.DumpFlows()).Values.Sum(c => c.Packets);

        Assert.Equal(upcalls, credited);
        Assert.True(credited < Derive(frames).Values.Sum(c => c.Packets));
    }

    [Fact]
    public void Pushing_again_without_traffic_changes_no_counter()
    {
        var frames = CaptureFrame.Read("tcp-http.pcap");
        var rig = new FirewallRig();
        foreach (var frame in frames)
        {
            rig.Send(frame);
        }

        rig.Datapath.Core.PushStatistics(rig.Revalidator);
        string once = rig.Tables.DumpFlows(withStats: false) + Counts(rig);
        rig.Datapath.Core.PushStatistics(rig.Revalidator);
        rig.Revalidate(frames[^1].TimeMs);

        Assert.Equal(once, rig.Tables.DumpFlows(withStats: false) + Counts(rig));
        Assert.Equal(2, rig.Datapath.Core.Pipeline.RevalidationStats.StatisticsPushes);
    }

    [Fact]
    public void Counts_stay_exact_when_megaflows_expire_and_are_reinstalled_midway()
    {
        // Removed megaflows push their last traffic; their successors' upcalls credit their first packet.
        var frames = CaptureFrame.Read("tcp-http.pcap");
        var rig = new FirewallRig();
        for (int i = 0; i < frames.Count; i++)
        {
            if (i % 25 == 24)
            {
                rig.Revalidate(frames[i].TimeMs + 10_000);
            }

            rig.Send(frames[i]);
        }

        rig.Datapath.Core.PushStatistics(rig.Revalidator);

        Assert.True(rig.Datapath.Core.Pipeline.RevalidationStats.RemovedIdle > 0);
        Assert.Equal(Derive(frames), Dump(rig.Tables.DumpFlows()));
    }

    /// <summary>
    /// The firewall's per-rule counts from plain header reading (captures/README.md: TCP only,
    /// every connection opened from h1, all of h2's packets established): table 0 sees every
    /// frame once; in table 1 a SYN without ACK is new, any other IPv4 packet established.
    /// </summary>
    private static Dictionary<string, (long Packets, long Bytes)> Derive(List<CaptureFrame> frames)
    {
        var counts = new Dictionary<string, (long Packets, long Bytes)>
        {
            [CtRule] = (0, 0), [ArpRule] = (0, 0), [DropRule] = (0, 0),
            [New1] = (0, 0), [New2] = (0, 0), [Est1] = (0, 0), [Est2] = (0, 0),
        };
        foreach (var frame in frames)
        {
            var b = frame.Bytes;
            ushort ethType = BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(12));
            if (ethType == 0x0806)
            {
                Add(counts, ArpRule, b.Length);
                continue;
            }

            if (ethType != 0x0800)
            {
                Add(counts, DropRule, b.Length);
                continue;
            }

            Add(counts, CtRule, b.Length);
            Assert.Equal(6, b[14 + 9]);
            int l4 = 14 + ((b[14] & 0x0f) * 4);
            byte flags = b[l4 + 13];
            bool syn = (flags & 0x02) != 0 && (flags & 0x10) == 0;
            Add(counts, (syn, frame.Port) switch
            {
                (true, 1) => New1,
                (true, _) => New2,
                (false, 1) => Est1,
                _ => Est2,
            }, b.Length);
        }

        return counts;
    }

    private static void Add(Dictionary<string, (long Packets, long Bytes)> counts, string rule, int bytes)
    {
        var (p, b) = counts[rule];
        counts[rule] = (p + 1, b + bytes);
    }

    private static Dictionary<string, (long Packets, long Bytes)> Dump(string dump)
    {
        var counts = new Dictionary<string, (long Packets, long Bytes)>();
        foreach (string line in dump.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var m = DumpLine().Match(line);
            Assert.True(m.Success, line);
            counts[$"table={m.Groups[1].Value}, {m.Groups[4].Value}"] = (long.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), long.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture));
        }

        return counts;
    }

    private static string Counts(FirewallRig rig) =>
        string.Join(';', rig.Tables.AllRules().Select(r => $"{r.Packets}/{r.Bytes}"));

    [GeneratedRegex(@"table=(\d+), n_packets=(\d+), n_bytes=(\d+), (.*)$")]
    private static partial Regex DumpLine();
}
