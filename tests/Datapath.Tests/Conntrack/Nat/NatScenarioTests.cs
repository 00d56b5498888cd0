using Datapath.Tests.Support;

namespace Datapath.Tests.Conntrack.Nat;

/// <summary>
/// The differential contract for NAT: each scenario replayed inline gives Open vSwitch's verdicts,
/// the very bytes Open vSwitch sent on each port, and its connection table at the end
/// (dpctl/dump-conntrack -s on the capture clock), with the recirculation bypass off and on.
/// </summary>
public sealed class NatScenarioTests
{
    public static TheoryData<string, string> ScenariosAndBypass()
    {
        var data = new TheoryData<string, string>();
        foreach (string name in NatCaptures.Names())
        {
            foreach (string bypass in new[] { "off", "megaflow", "per-connection" })
            {
                data.Add(name, bypass);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ScenariosAndBypass))]
    public void A_NAT_scenario_gives_Open_vSwitch_verdicts(string scenario, string bypass)
    {
        var replay = NatCaptures.Replay(scenario, bypass);

        Assert.Equal(File.ReadAllText(NatCaptures.Expected(scenario, "verdict")), replay.Verdicts);
    }

    [Theory]
    [MemberData(nameof(ScenariosAndBypass))]
    public void A_NAT_scenario_sends_the_frames_Open_vSwitch_sent_byte_for_byte(string scenario, string bypass)
    {
        var replay = NatCaptures.Replay(scenario, bypass);

        AssertFrames(TestPcap.ReadFrames(NatCaptures.Expected(scenario, "port1.pcap")), replay.Port1, scenario + " port 1");
        AssertFrames(TestPcap.ReadFrames(NatCaptures.Expected(scenario, "port2.pcap")), replay.Port2, scenario + " port 2");
    }

    [Theory]
    [MemberData(nameof(ScenariosAndBypass))]
    public void A_NAT_scenario_leaves_Open_vSwitch_connection_table(string scenario, string bypass)
    {
        var replay = NatCaptures.Replay(scenario, bypass);

        var expected = File.ReadAllLines(NatCaptures.Expected(scenario, "conntrack")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, replay.Conntrack);
    }

    [Theory]
    [MemberData(nameof(ScenariosAndBypass))]
    public void Every_frame_a_NAT_scenario_sends_has_valid_checksums_inside_and_out(string scenario, string bypass)
    {
        var replay = NatCaptures.Replay(scenario, bypass);

        foreach (var frame in replay.Port1.Concat(replay.Port2))
        {
            NatChecksumAssert.AllValid(frame);
        }
    }

    [Fact]
    public void The_megaflow_bypass_combines_ct_with_nat_and_the_scenarios_still_send_Open_vSwitch_frames()
    {
        long hits = 0;
        foreach (string scenario in NatCaptures.Names())
        {
            var off = NatCaptures.Replay(scenario, "off");
            var on = NatCaptures.Replay(scenario, "megaflow");

            Assert.Equal(off.Verdicts, on.Verdicts);
            AssertFrames(off.Port1, on.Port1, scenario + " port 1, bypass on against off");
            AssertFrames(off.Port2, on.Port2, scenario + " port 2, bypass on against off");
            Assert.Equal(0, off.Datapath.Core.Pipeline.Stats.BypassHits);
            hits += on.Datapath.Core.Pipeline.Stats.BypassHits;
        }

        // Established translated packets took one pass instead of two; the frames above are the same.
        Assert.True(hits > 0, "no translated packet hit a bypass flow");
    }

    [Theory]
    [InlineData("per-connection")]
    [InlineData("emc-only")]
    public void The_exact_bypass_modes_leave_ct_with_nat_to_recirculation(string bypass)
    {
        foreach (string scenario in NatCaptures.Names())
        {
            var on = NatCaptures.Replay(scenario, bypass);

            // Their bypass flows are keyed by the packet's exact first pass, which the translation rewrote.
            Assert.Equal(0, on.Datapath.Core.Pipeline.Stats.BypassInstalls);
            Assert.Equal(File.ReadAllText(NatCaptures.Expected(scenario, "verdict")), on.Verdicts);
        }
    }

    [Fact]
    public void Port_exhaustion_commits_nothing_and_counts_it()
    {
        var replay = NatCaptures.Replay("port-exhaustion");

        // Frames 3 and 7 found no free tuple in the two-port pool (README: "Exhaustion does not drop").
        Assert.Equal(2, replay.Datapath.Conntrack.Stats[Datapath.Conntrack.ConntrackCounter.NatExhausted]);
    }

    private static void AssertFrames(IReadOnlyList<byte[]> expected, IReadOnlyList<byte[]> actual, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: {actual.Count} frames, Open vSwitch sent {expected.Count}");
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].AsSpan().SequenceEqual(actual[i]), $"{what}, frame {i + 1}: {Convert.ToHexString(actual[i])} but Open vSwitch sent {Convert.ToHexString(expected[i])}");
        }
    }
}
