using Datapath.Conntrack;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Pipeline;
using Datapath.Replay;
using Datapath.Tests.Support;

namespace Datapath.Tests.Pipeline;

/// <summary>
/// PmdCore with a conntrack stage that answers later, as the shard actors do: the packets wait,
/// continue when their answer arrives, and end up exactly where the in-place datapath sends them.
/// </summary>
public sealed class PmdCoreTests
{
    [Fact]
    public void Packets_wait_for_their_conntrack_answer_and_then_continue()
    {
        var (core, stage, sink) = Build();
        var frames = Frames("udp-dns.pcap", 4);

        Receive(core, frames[2]);

        Assert.Empty(sink.Sent);
        Assert.Equal(1, core.OutstandingConntrack);
        Assert.Equal(1, core.PacketsInFlight);

        // ct(table=1), then table 1's ct(commit) for a new connection: two round trips.
        stage.AnswerAll();
        Assert.Empty(sink.Sent);
        stage.AnswerAll();

        Assert.Equal([2u], sink.Sent.Select(s => s.Port));
        Assert.Equal(0, core.OutstandingConntrack);
    }

    [Fact]
    public void Answers_for_one_input_continue_only_its_packets()
    {
        var (core, stage, sink) = Build();
        // Three DNS queries from port 1: one megaflow, so one ct action and one request.
        var queries = Frames("udp-dns.pcap", 12).Where(f => f.Port == 1).Skip(1).Take(3).ToList();
        var batch = new PacketBatch();
        foreach (var frame in queries)
        {
            core.TryReceive(frame.Bytes, frame.Port, out var packet);
            batch.Add(packet);
        }

        core.Process(batch, 0);
        var request = Assert.Single(stage.Pending);
        Assert.Equal(3, request.Count);
        long id = request.Id;

        stage.Answer(request, index: 1);
        stage.AnswerAllBut(id);

        Assert.Single(sink.Sent);
        Assert.Equal(1, core.OutstandingConntrack);
        Assert.Equal(2, core.PacketsInFlight);

        stage.Answer(request, index: 0);
        stage.Answer(request, index: 2);
        stage.AnswerAllBut(id);

        Assert.Equal(3, sink.Sent.Count);
        Assert.Equal(0, core.OutstandingConntrack);
    }

    [Fact]
    public void A_second_answer_for_the_same_input_is_ignored_and_counted()
    {
        var (core, stage, sink) = Build();
        Receive(core, Frames("udp-dns.pcap", 3)[2]);
        var request = stage.Pending.Single();
        long id = request.Id;
        var result = stage.Table.Execute(request.Inputs[0], request.Args, 0);

        stage.Pending.Clear();
        stage.Answers.Complete(id, [0], [result]);
        stage.AnswerAllBut(id);
        stage.Answers.Complete(id, [0], [result]);

        Assert.Single(sink.Sent);
        Assert.Equal(1, core.Stats.StaleConntrackAnswers);
    }

    [Theory]
    [InlineData("tcp-http")]
    [InlineData("icmp")]
    public void Deferred_answers_in_order_give_the_in_place_datapath_verdicts(string capture)
    {
        var (core, stage, sink) = Build();
        var lines = new List<string>();
        foreach (var frame in Frames(capture + ".pcap", int.MaxValue))
        {
            sink.Sent.Clear();
            Receive(core, frame);
            while (stage.Pending.Count > 0)
            {
                stage.AnswerAll();
            }

            lines.Add($"{frame.Number} {frame.Port} -> " + (sink.Sent.Count == 0 ? "drop" : string.Join(',', sink.Sent.Select(s => s.Port))));
        }

        var expected = File.ReadAllLines(TestData.Capture(Path.Combine("expected", capture + ".verdict")));
        Assert.Equal(expected, lines);
    }

    private static void Receive(PmdCore core, Frame frame)
    {
        var batch = new PacketBatch();
        core.TryReceive(frame.Bytes, frame.Port, out var packet);
        batch.Add(packet);
        core.Process(batch, frame.TimeMs);
    }

    private static (PmdCore Core, DeferredStage Stage, RecordingSink Sink) Build()
    {
        var tables = new OpenFlowTables();
        tables.AddFlows(File.ReadAllText(TestData.Capture("firewall.flows")), "firewall.flows");
        DeferredStage? stage = null;
        var sink = new RecordingSink();
        var core = new PmdCore(new Translator(tables, new RecircRegistry(), [1, 2]), answers => stage = new DeferredStage(answers), sink, Defaults.PmdCoreOptions);
        return (core, stage!, sink);
    }

    private static List<Frame> Frames(string capture, int count)
    {
        using var reader = PcapReader.Open(TestData.Capture(capture));
        var frames = new List<Frame>();
        while (frames.Count < count && reader.TryReadNext(out var header))
        {
            frames.Add(new Frame(header.RecordNumber, ReplayPorts.BySourceMac(reader.CurrentFrame), reader.CurrentFrame.ToArray(), header.TimestampNs / 1_000_000));
        }

        return frames;
    }

    private sealed record Frame(long Number, uint Port, byte[] Bytes, long TimeMs);

    private sealed class RecordingSink : IPacketSink
    {
        public List<(uint Port, byte[] Frame)> Sent { get; } = [];

        public void Transmit(uint port, Packet packet) => Sent.Add((port, packet.Data.ToArray()));
    }

    /// <summary>Keeps requests until the test answers them, from its own connection table.</summary>
    private sealed class DeferredStage(IConntrackAnswers answers) : IConntrackStage
    {
        public IConntrackAnswers Answers => answers;

        public ConnectionTable Table { get; } = new(Defaults.ConntrackOptions);

        public List<ConntrackRequest> Pending { get; } = [];

        public void Submit(ConntrackRequest request) => Pending.Add(request);

        public void Answer(ConntrackRequest request, int index)
        {
            var result = Table.Execute(request.Inputs[index], request.Args, request.NowMs);
            answers.Complete(request.Id, [index], [result]);
        }

        /// <summary>Answers every pending request but the held one, and the requests those answers cause.</summary>
        public void AnswerAllBut(long heldId)
        {
            while (Pending.Any(r => r.Id != heldId))
            {
                var others = Pending.Where(r => r.Id != heldId).ToList();
                Pending.RemoveAll(r => r.Id != heldId);
                AnswerEach(others);
            }
        }

        public void AnswerAll()
        {
            var requests = Pending.ToList();
            Pending.Clear();
            AnswerEach(requests);
        }

        private void AnswerEach(List<ConntrackRequest> requests)
        {
            foreach (var request in requests)
            {
                var results = new ConntrackResult[request.Count];
                for (int i = 0; i < request.Count; i++)
                {
                    results[i] = Table.Execute(request.Inputs[i], request.Args, request.NowMs);
                }

                answers.Complete(request.Id, results);
            }
        }
    }
}

/// <summary>
/// The last output of an action list hands the packet itself to a sink that can take it (no copy),
/// but only a packet from a pool any thread may return to; anything else is sent as a copy.
/// </summary>
public sealed class PmdCoreOutputTests
{
    private const string Forward = "in_port=1 actions=output:2";

    [Fact]
    public void A_last_output_hands_over_a_packet_of_a_thread_safe_pool_itself()
    {
        var sink = new TakingSink();
        var core = Core(sink);
        var pool = new ConcurrentPacketPool(4);
        Assert.True(pool.TryRent(out var packet));
        packet.SetFrame(Frame(), 1);

        var batch = new PacketBatch();
        batch.Add(packet);
        core.Process(batch, 0);

        Assert.Same(packet, Assert.Single(sink.Taken).Packet);
        Assert.Empty(sink.Copied);
        Assert.Equal(3, pool.Available);
    }

    [Fact]
    public void A_packet_of_the_pmds_own_pool_is_sent_as_a_copy_and_goes_back_to_its_pool()
    {
        var sink = new TakingSink();
        var core = Core(sink);
        Assert.True(core.TryReceive(Frame(), 1, out var packet));

        var batch = new PacketBatch();
        batch.Add(packet);
        core.Process(batch, 0);

        Assert.Empty(sink.Taken);
        Assert.Equal(2u, Assert.Single(sink.Copied).Port);
        Assert.True(core.TryReceive(Frame(), 1, out var again));
        Assert.Same(packet, again);
    }

    private static PmdCore Core(IPacketSink sink)
    {
        var tables = new OpenFlowTables();
        tables.AddFlows(Forward, "forward.flows");
        return new PmdCore(new Translator(tables, new RecircRegistry(), [1, 2]), answers => new TableConntrackStage(new ConnectionTable(Defaults.ConntrackOptions), answers), sink, Defaults.PmdCoreOptions with { PacketPoolSize = 1 });
    }

    private static byte[] Frame() => File.Exists(TestData.Capture("udp-dns.pcap"))
        ? TestPcap.ReadFrames(TestData.Capture("udp-dns.pcap"))[0]
        : throw new FileNotFoundException("udp-dns.pcap");

    private sealed class TakingSink : IPacketSink
    {
        public List<(uint Port, Packet Packet)> Taken { get; } = [];

        public List<(uint Port, byte[] Frame)> Copied { get; } = [];

        public void Transmit(uint port, Packet packet) => Copied.Add((port, packet.Data.ToArray()));

        public bool TryTake(uint port, Packet packet)
        {
            Taken.Add((port, packet));
            return true;
        }
    }
}
