using Datapath.Tests.Support;

namespace Datapath.Tests.Conntrack.Nat;

/// <summary>
/// captures/nat-extra: questions put to Open vSwitch 3.1 while writing NAT (its README). Port
/// classes and DNAT's source-port fallback match it byte for byte; the two places where Open
/// vSwitch is wrong (an ICMPv6 MTU it damages, a bare nat commit it breaks) are checked as the
/// README states them, and everything else against its answers.
/// </summary>
public sealed class NatExtraScenarioTests
{
    [Theory]
    [InlineData("sport-classes")]
    [InlineData("dnat-collision")]
    public void A_forced_choice_is_Open_vSwitch_choice_byte_for_byte(string scenario)
    {
        var replay = NatCaptures.Replay(scenario, extra: true);

        Assert.Equal(File.ReadAllText(NatCaptures.Expected(scenario, "verdict", extra: true)), replay.Verdicts);
        AssertSameFrames(TestPcap.ReadFrames(NatCaptures.Expected(scenario, "port1.pcap", extra: true)), replay.Port1);
        AssertSameFrames(TestPcap.ReadFrames(NatCaptures.Expected(scenario, "port2.pcap", extra: true)), replay.Port2);
        Assert.Equal(ExpectedTable(scenario), replay.Conntrack);
    }

    [Fact]
    public void A_translated_packet_too_big_keeps_its_MTU_where_Open_vSwitch_damages_it()
    {
        var replay = NatCaptures.Replay("icmp-errors-mtu", extra: true);
        var ovs = TestPcap.ReadFrames(NatCaptures.Expected("icmp-errors-mtu", "port1.pcap", extra: true));
        var input = TestPcap.ReadFrames(Path.Combine(NatCaptures.Directory(extra: true), "icmp-errors-mtu.pcap"));

        Assert.Equal(File.ReadAllText(NatCaptures.Expected("icmp-errors-mtu", "verdict", extra: true)), replay.Verdicts);
        AssertSameFrames(TestPcap.ReadFrames(NatCaptures.Expected("icmp-errors-mtu", "port2.pcap", extra: true)), replay.Port2);
        Assert.Equal(ExpectedTable("icmp-errors-mtu"), replay.Conntrack);

        // Frame 2 of the capture left as port 1's first frame. The ICMPv6 message starts at byte 54:
        // type, code, checksum (56-57), MTU (58-61).
        byte[] ours = replay.Port1[0];
        Assert.Equal(1280u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(ours.AsSpan(58)));
        Assert.Equal(14006u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(ovs[0].AsSpan(58)));
        Assert.True(ours.AsSpan(58, 4).SequenceEqual(input[1].AsSpan(58, 4)), "the MTU is the one the router sent");
        for (int i = 0; i < ours.Length; i++)
        {
            if (i is not (56 or 57 or 60 or 61))
            {
                Assert.True(ours[i] == ovs[0][i], $"byte {i}: {ours[i]:x2}, Open vSwitch {ovs[0][i]:x2}");
            }
        }

        NatChecksumAssert.AllValid(ours);
        AssertSameFrames(ovs.Skip(1).ToList(), replay.Port1.Skip(1).ToList());
    }

    [Fact]
    public void A_bare_nat_commit_sets_up_no_translation_and_answers_pass()
    {
        var replay = NatCaptures.Replay("bare-nat-commit", extra: true);
        var input = TestPcap.ReadFrames(Path.Combine(NatCaptures.Directory(extra: true), "bare-nat-commit.pcap"));

        // Open vSwitch 3.1 drops frame 2 (its reply tuple is 0.0.0.0:53 -> 10.0.2.5:0); it is the answer.
        Assert.Equal("1 1 -> 2\n2 2 -> 1\n3 1 -> 2\n", replay.Verdicts);
        AssertSameFrames([input[1]], replay.Port1);
        AssertSameFrames(TestPcap.ReadFrames(NatCaptures.Expected("bare-nat-commit", "port2.pcap", extra: true)), replay.Port2);
        Assert.Equal(
            ["udp,orig=(src=10.0.2.5,dst=198.51.100.53,sport=7000,dport=53),reply=(src=198.51.100.53,dst=10.0.2.5,sport=53,dport=7000),zone=1,timeout=30"],
            replay.Conntrack);
    }

    private static List<string> ExpectedTable(string scenario) =>
        File.ReadAllLines(NatCaptures.Expected(scenario, "conntrack", extra: true)).Order(StringComparer.Ordinal).ToList();

    private static void AssertSameFrames(IReadOnlyList<byte[]> expected, IReadOnlyList<byte[]> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].AsSpan().SequenceEqual(actual[i]), $"frame {i + 1}: {Convert.ToHexString(actual[i])}, Open vSwitch {Convert.ToHexString(expected[i])}");
        }
    }
}
