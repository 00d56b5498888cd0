using Actors.Cluster;
using Actors.Node;
using Actors.Ports;
using Actors.Tests.Support;
using Datapath.Conntrack;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets.Pcap;
using Datapath.Pipeline;
using Datapath.Replay;
using Datapath.Tests.Support;

namespace Actors.Tests.Ports;

/// <summary>
/// The actor datapath and the inline reference give the same verdict for every frame, on real
/// captures damaged the way real captures are (<see cref="CaptureMutations"/>: gaps, timestamps
/// stepping back, duplicates, swaps, losses), seeded: both follow the capture's clock alone (never
/// going back), so conntrack and reassembly expire the same connections and fragments at the same
/// frame. Both run the embedded defaults (the recirculation bypass in megaflow mode).
/// </summary>
public sealed class ActorInlineAgreementTests
{
    private const int MaxFrames = 400;
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    public static TheoryData<string, int> CapturesAndSeeds()
    {
        var data = new TheoryData<string, int>();
        var captures = TestData.AllCapturePcaps().Append(TestData.Capture(Path.Combine("fragments", "ip-frag.pcap")));
        foreach (string pcap in captures)
        {
            foreach (int seed in new[] { 1, 2, 3 })
            {
                data.Add(Path.GetRelativePath(TestData.Captures, pcap), seed);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CapturesAndSeeds))]
    public async Task A_damaged_capture_gets_the_same_verdicts_from_the_actors_as_inline(string capture, int seed)
    {
        var random = new Random(seed * 7919 + capture.Length);
        var frames = CaptureMutations.Apply(CaptureMutations.Read(TestData.Capture(capture)), random, MaxFrames);
        int pmds = 1 + (seed % 2);

        var inline = Inline(frames, Firewall());
        var actors = await OnActors(frames, Firewall(), pmds);

        Assert.Equal(frames.Count, inline.Count);
        Assert.Equal(inline, actors);
    }

    [Fact]
    public async Task A_20_second_gap_between_fragments_expires_the_datagram_on_both()
    {
        var frames = CaptureMutations.Read(TestData.Capture(Path.Combine("fragments", "ip-frag.pcap")));
        var whole = Inline(frames, Firewall());

        // Frame 4 is the second fragment of h1's first datagram (frame 5 completes it: "5 1 -> 2,2,2").
        var gapped = frames.Select((f, i) => i >= 3 ? f with { TimestampNs = f.TimestampNs + 20_000_000_000 } : f).ToList();
        var inline = Inline(gapped, Firewall());
        var actors = await OnActors(gapped, Firewall(), pmds: 1);

        Assert.Equal("5 1 -> 2,2,2", whole[4]);
        Assert.Equal("5 1 -> drop", inline[4]);
        Assert.Equal(inline, actors);
    }

    [Fact]
    public async Task Timestamps_stepping_back_keep_the_clock_where_it_was_on_both()
    {
        // udp-dns: frames 1-2 are ARP, 3 a DNS request from port 1, 4 its answer. The answer comes
        // stamped 50 s before the request, then again 1 s after it. A clock that went back would
        // renew the connection to 50 s ago and find it expired (udp-multiple is 30 s) at the
        // second answer, which the firewall then drops as new from port 2; the clock stays at the
        // request's time instead, and the second answer is forwarded.
        var frames = CaptureMutations.Read(TestData.Capture("udp-dns.pcap"));
        long request = frames[2].TimestampNs;
        List<CapturedFrame> stepped = [frames[0], frames[1], frames[2], frames[3] with { TimestampNs = request - 50_000_000_000 }, frames[3] with { TimestampNs = request + 1_000_000_000 }];

        var inline = Inline(stepped, Firewall());
        var actors = await OnActors(stepped, Firewall(), pmds: 2);

        Assert.Equal(["3 1 -> 2", "4 2 -> 1", "5 2 -> 1"], inline[2..]);
        Assert.Equal(inline, actors);
    }

    [Fact]
    public async Task An_empty_flow_table_drops_every_frame_on_the_actors_as_inline()
    {
        var frames = CaptureMutations.Read(TestData.Capture("tcp-http.pcap")).Take(60).ToList();

        var inline = Inline(frames, []);
        var actors = await OnActors(frames, [], pmds: 2);

        Assert.All(inline, line => Assert.EndsWith(" -> drop", line, StringComparison.Ordinal));
        Assert.Equal(inline, actors);
    }

    internal static IReadOnlyList<FlowEntry> Firewall() => ActorReplayTests.Firewall();

    /// <summary>Verdicts of the inline reference, as `replay --inline` computes them.</summary>
    internal static List<string> Inline(IReadOnlyList<CapturedFrame> frames, IReadOnlyList<FlowEntry> flows)
    {
        var tables = new OpenFlowTables();
        tables.Add(flows.ToList());
        var datapath = new InlineDatapath(new Translator(tables, new RecircRegistry(), [1, 2]), Defaults.PmdCoreOptions, new ConnectionTable(Defaults.ConntrackOptions));
        using var reader = new PcapReader(CaptureMutations.ToPcap(frames), "mutated.pcap");
        var output = new StringWriter();
        new VerdictReplay(datapath).Run(reader, output);
        return output.ToString().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n').ToList();
    }

    /// <summary>Verdicts of the actor datapath on a standalone node, on the capture's clock alone (as `replay` runs it).</summary>
    internal static async Task<List<string>> OnActors(IReadOnlyList<CapturedFrame> frames, IReadOnlyList<FlowEntry> flows, int pmds)
    {
        var config = TestConfigs.Standalone();
        await using var cluster = await DatapathCluster.StartAsync(config, Defaults.ConntrackSettings with { FrameClock = true });
        var node = DatapathNode.Start(cluster, pmds, Defaults.PmdSettings with { FrameClock = true }, Defaults.BridgeSettings);
        var replayFrames = frames.Select((f, i) => new ReplayFrame(i + 1, ReplayPorts.BySourceMac(f.Bytes), f.Bytes, f.TimestampNs / 1_000_000)).ToList();
        var verdicts = await ActorReplay.RunAsync(node, flows, replayFrames, Patience);
        await node.StopAsync();
        return verdicts.ToList();
    }
}
