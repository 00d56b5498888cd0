using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets.Pcap;
using Datapath.Bypass;
using Datapath.Pipeline;
using Datapath.Replay;
using Datapath.Tests.Support;

namespace Datapath.Tests.Replay;

/// <summary>
/// The differential contract of DESIGN.md: every capture replayed through the whole datapath with
/// the reference firewall gives, frame for frame, the verdicts Open vSwitch gave (captures/expected).
/// </summary>
public sealed class VerdictReplayTests
{
    public static TheoryData<string, int, string> CapturesAndEmcSettings()
    {
        var data = new TheoryData<string, int, string>();
        foreach (var pcap in TestData.AllCapturePcaps())
        {
            foreach (int emcInsertInvProb in new[] { 100, 1, 0 })
            {
                foreach (string bypass in new[] { "off", "megaflow", "per-connection", "emc-only" })
                {
                    data.Add(Path.GetFileNameWithoutExtension(pcap), emcInsertInvProb, bypass);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CapturesAndEmcSettings))]
    public void Replaying_a_capture_through_the_firewall_gives_Open_vSwitch_verdicts(string capture, int emcInsertInvProb, string bypass)
    {
        string expected = File.ReadAllText(TestData.Capture(Path.Combine("expected", capture + ".verdict")));

        string actual = Replay(TestData.Capture(capture + ".pcap"), Firewall(), emcInsertInvProb, out var datapath, bypass);

        Assert.Equal(expected, actual);
        if (bypass != "off" && capture is "tcp-long" or "udp-stream" or "many-conns")
        {
            // Captures with long established streams: the verdicts above came (partly) through bypass flows.
            Assert.True(datapath.Core.Pipeline.Stats.BypassHits > 0);
        }
    }

    /// <summary>
    /// captures/fragments/README.md: held fragments wait for their datagram, conntrack sees the whole
    /// datagram, and its fragments leave together with its state, so h1's datagrams (ICMP and UDP)
    /// and their replies pass and IPv6 drops (the firewall's `ip` is IPv4 only). The verdicts are
    /// derived here from that rule frame by frame, independently of the datapath.
    /// </summary>
    [Fact]
    public void Fragmented_datagrams_pass_whole_when_their_last_fragment_arrives()
    {
        string expected = VerdictsByFragmentRule(TestData.Capture(Path.Combine("fragments", "ip-frag.pcap")));

        string actual = Replay(TestData.Capture(Path.Combine("fragments", "ip-frag.pcap")), Firewall(), 100, out var datapath);

        Assert.Equal(expected, actual);
        Assert.Equal(0, datapath.Reassembler.HeldFragments);
        Assert.True(datapath.Stats.DatagramsReassembled >= 12);
    }

    [Fact]
    public void A_recirculation_loop_is_cut_at_the_depth_limit_and_counted()
    {
        var tables = new OpenFlowTables();
        tables.AddFlows("table=0, ip actions=ct(table=0)\n", "loop.flows");

        string verdicts = Replay(TestData.Capture("udp-dns.pcap"), tables, 100, out var datapath);

        Assert.All(verdicts.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.EndsWith("-> drop", line, StringComparison.Ordinal));
        Assert.Equal(40, datapath.Stats.RecirculationDepthExceeded);
    }

    [Fact]
    public void Every_packet_returns_to_the_pool_after_a_replay()
    {
        var datapath = new InlineDatapath(new Translator(Firewall(), new RecircRegistry(), [1, 2]), Defaults.PmdCoreOptions with { PacketPoolSize = 64 }, new ConnectionTable(Defaults.ConntrackOptions));
        using var reader = PcapReader.Open(TestData.Capture("many-conns.pcap"));

        new VerdictReplay(datapath).Run(reader, TextWriter.Null);

        // 2402 frames through a pool of 64: any leak would have exhausted it.
        Assert.Equal(0, datapath.Stats.PoolExhausted);
    }

    private static OpenFlowTables Firewall()
    {
        var tables = new OpenFlowTables();
        tables.AddFlows(File.ReadAllText(TestData.Capture("firewall.flows")), "firewall.flows");
        return tables;
    }

    private static string Replay(string pcap, OpenFlowTables tables, int emcInsertInvProb, out InlineDatapath datapath, string bypass = "megaflow")
    {
        datapath = new InlineDatapath(
            new Translator(tables, new RecircRegistry(), [1, 2]),
            Defaults.PmdCoreOptions with { EmcInsertInvProb = emcInsertInvProb, Bypass = BypassModes.TryParse(bypass, out var mode) ? mode : throw new ArgumentException(bypass, nameof(bypass)) },
            new ConnectionTable(Defaults.ConntrackOptions));
        using var reader = PcapReader.Open(pcap);
        var output = new StringWriter { NewLine = "\n" };
        new VerdictReplay(datapath).Run(reader, output);
        return output.ToString();
    }

    /// <summary>The fragment rule applied to each frame's headers: see the test above.</summary>
    private static string VerdictsByFragmentRule(string pcap)
    {
        using var reader = PcapReader.Open(pcap);
        var lines = new StringWriter { NewLine = "\n" };
        var packet = new Datapath.Packets.Packet();
        var key = default(FlowKey);
        var stats = new ExtractionStats();
        while (reader.TryReadNext(out var header))
        {
            uint port = ReplayPorts.BySourceMac(reader.CurrentFrame);
            packet.SetFrame(reader.CurrentFrame, port);
            FlowExtractor.Extract(packet, ref key, stats);
            string other = port == 1 ? "2" : "1";
            string verdict;
            if (key.EthType == EtherTypes.Arp)
            {
                verdict = other;
            }
            else if (!key.IsIpv4)
            {
                verdict = "drop";
            }
            else if (key.NwFrag == 0)
            {
                verdict = other;
            }
            else
            {
                // Held until the fragment without "more fragments" completes the datagram (this
                // capture's fragments arrive in order, three per datagram).
                bool more = (packet.Data[packet.L3Offset + 6] & 0x20) != 0;
                verdict = more ? "drop" : $"{other},{other},{other}";
            }

            lines.WriteLine($"{header.RecordNumber} {port} -> {verdict}");
        }

        return lines.ToString();
    }
}
