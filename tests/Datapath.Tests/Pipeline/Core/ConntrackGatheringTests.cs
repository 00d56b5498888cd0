using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Conntrack.Fragments;
using Datapath.Packets;
using Datapath.Pipeline;

namespace Datapath.Tests.Pipeline.Core;

/// <summary>
/// Gathering ct work into requests (one per argument set, sent full or when the call unwinds, inputs
/// in arrival order) and continuing their answers (consecutive inputs that go on alike as one batch,
/// stale and lost answers counted).
/// </summary>
public sealed class ConntrackGatheringTests
{
    private static readonly ConntrackArgs Zone0 = new();
    private static readonly ConntrackArgs Zone5 = new() { Zone = 5 };

    private readonly PmdCoreStats _stats = new();
    private readonly PacketBatchPool _batches = new();
    private readonly PacketPool _pool = new(64);
    private readonly Stage _stage = new();
    private readonly Runner _runner = new();
    private readonly ConntrackContinuations _continuations;
    private readonly ConntrackGatherer _gatherer;

    public ConntrackGatheringTests()
    {
        var packets = new PmdPackets(1, _batches, _stats);
        var requests = new ConntrackRequestPool();
        _continuations = new ConntrackContinuations(_runner, requests, packets, _stats);
        var reassembly = new ReassemblyStage(new IpReassembler(), packets, _stats);
        _gatherer = new ConntrackGatherer(_stage, _continuations, requests, reassembly, _stats, _batches, new PmdClock { NowMs = 42 });
    }

    [Fact]
    public void Each_argument_set_gathers_one_request_sent_in_the_order_opened_when_the_call_unwinds()
    {
        var actions = new ActionList([DatapathAction.Output(2)]);
        _gatherer.Gather(Batch(3, sequenceFrom: 10), Zone0, actions, 1);
        _gatherer.Gather(Batch(2, sequenceFrom: 20), Zone5, actions, 1);
        _gatherer.Gather(Batch(1, sequenceFrom: 5), Zone0, actions, 1);
        Assert.Empty(_stage.Submitted);

        _gatherer.SubmitGathered();

        Assert.Equal([(Zone0, 4), (Zone5, 2)], _stage.Submitted.Select(r => (r.Args, r.Count)));
        Assert.Equal(42, _stage.Submitted[0].NowMs);
        Assert.Equal(2, _continuations.Outstanding);
        Assert.Equal(2, _stats.ConntrackRequests);
        Assert.Equal(6, _continuations.PacketsWaiting);
    }

    [Fact]
    public void A_full_request_is_sent_at_once()
    {
        var actions = new ActionList([DatapathAction.Output(2)]);
        _gatherer.Gather(Batch(32, sequenceFrom: 1), Zone0, actions, 1);

        Assert.Single(_stage.Submitted);
        Assert.Equal(32, _stage.Submitted[0].Count);
    }

    [Fact]
    public void Inputs_that_continue_alike_run_as_one_batch_in_order_and_a_second_answer_is_stale()
    {
        var first = new ActionList([DatapathAction.Output(2)]);
        var second = new ActionList([DatapathAction.Output(3)]);
        var a = Batch(2, sequenceFrom: 1);
        var b = Batch(1, sequenceFrom: 3);
        var sent = a.Packets.ToArray().Concat(b.Packets.ToArray()).ToArray();
        _gatherer.Gather(a, Zone0, first, 1);
        _gatherer.Gather(b, Zone0, second, 1);
        _gatherer.SubmitGathered();
        var request = Assert.Single(_stage.Submitted);
        var results = Enumerable.Repeat(new ConntrackResult { State = CtState.New | CtState.Tracked }, 3).ToArray();

        Assert.True(_continuations.TryFind(request.Id, 3, out var found));
        _continuations.Continue(found, [0, 1, 2], results);

        Assert.Equal(2, _runner.Runs.Count);
        Assert.Equal(sent[..2], _runner.Runs[0].Packets);
        Assert.Same(first, _runner.Runs[0].Actions);
        Assert.Equal(sent[2..], _runner.Runs[1].Packets);
        Assert.Same(second, _runner.Runs[1].Actions);
        Assert.All(sent, p => Assert.Equal(CtState.New | CtState.Tracked, p.Metadata.CtState));
        Assert.Equal(0, _continuations.Outstanding);

        Assert.False(_continuations.TryFind(request.Id, 3, out _));
        Assert.Equal(3, _stats.StaleConntrackAnswers);
    }

    [Fact]
    public void Abandoned_and_refused_inputs_drop_their_packets_counted_and_back_to_their_pool()
    {
        var actions = new ActionList([DatapathAction.Output(2)]);
        _gatherer.Gather(Batch(3, sequenceFrom: 1), Zone0, actions, 1);
        _gatherer.SubmitGathered();
        var request = _stage.Submitted[0];
        long id = request.Id;

        Assert.True(_continuations.TryFind(id, 1, out var found));
        _continuations.Continue(found, [1], [new ConntrackResult { Drop = true }]);
        _continuations.Abandon(id, [0, 1]);

        Assert.Equal(1, _stats.ConntrackLimitDrops);
        Assert.Equal(1, _stats.ConntrackAnswersLost);
        Assert.Equal(1, _continuations.PacketsWaiting);
        Assert.Equal(1, _continuations.ReleaseAll());
        Assert.Equal(64, _pool.Available);
        Assert.Empty(_runner.Runs);
    }

    private PacketBatch Batch(int count, long sequenceFrom)
    {
        var batch = _batches.Rent();
        for (int i = 0; i < count; i++)
        {
            Assert.True(_pool.TryRent(out var packet));
            packet.SetFrame(CtFrames(i, sequenceFrom), 1);
            var key = default(Datapath.Flow.FlowKey);
            Datapath.Flow.FlowExtractor.Extract(packet, ref key, new Datapath.Flow.ExtractionStats());
            packet.PassSequence = sequenceFrom + i;
            batch.Add(packet);
        }

        return batch;
    }

    private static byte[] CtFrames(int i, long sequenceFrom) =>
        TestSupport.Frames.Frame.Ip(Tests.Conntrack.CtHarness.H1, Tests.Conntrack.CtHarness.H2).Udp((ushort)(30000 + sequenceFrom + i), 53).Payload(12).Build();

    private sealed class Stage : IConntrackStage
    {
        public List<ConntrackRequest> Submitted { get; } = [];

        public void Submit(ConntrackRequest request) => Submitted.Add(request);
    }

    private sealed class Runner : IContinuationRunner
    {
        public List<(Packet[] Packets, ActionList Actions, int ResumeAt)> Runs { get; } = [];

        public void Continue(PacketBatch batch, ActionList actions, int resumeAt) => Runs.Add((batch.Packets.ToArray(), actions, resumeAt));
    }
}
