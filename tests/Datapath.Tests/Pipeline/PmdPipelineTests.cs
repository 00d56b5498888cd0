using Datapath.Actions;
using Datapath.Caches;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Tests.Pipeline;

public sealed class PmdPipelineTests
{
    private const byte Syn = 0x02;
    private const byte Ack = 0x10;

    [Fact]
    public void A_first_packet_upcalls_once_and_installs_one_megaflow_with_the_handlers_mask()
    {
        var mask = ScriptedUpcall.PortAndSourcePortMask();
        var h = new PipelineHarness(AlwaysInsertingEmc(), in mask);
        byte[] frame = PipelineFrames.Udp(1000);

        h.Process(frame);

        FlowKey asked = Assert.Single(h.Upcall.Calls);
        Assert.Equal(1u, asked.InPort);
        Assert.Equal((ushort)1000, asked.TpSrc);
        Megaflow flow = h.SingleMegaflow();
        Assert.Equal(mask, flow.Mask);
        Assert.Equal(FlowKey.And(in asked, in mask), flow.Key);
        Assert.Same(h.Upcall.Actions, flow.Actions);
        Assert.Equal(1, h.Stats.UpcallsOk);
        Assert.Equal(0, h.Stats.MegaflowHits + h.Stats.EmcHits);
        var output = Assert.Single(h.Sink.Outputs);
        Assert.Equal(2u, output.Port);
        Assert.Equal(frame, output.Frame);
    }

    [Fact]
    public void Following_packets_of_the_flow_hit_the_megaflow_without_another_upcall()
    {
        var h = new PipelineHarness(NeverInsertingEmc(), ScriptedUpcall.PortMask());
        byte[] frame = PipelineFrames.Udp(1000);

        h.Process(frame);
        h.Process(frame, frame);
        h.Process(frame);

        Assert.Single(h.Upcall.Calls);
        Assert.Equal(3, h.Stats.MegaflowHits);
        Assert.Equal(0, h.Stats.EmcHits);
        Assert.Equal(4, h.Sink.Outputs.Count);
    }

    [Fact]
    public void Once_the_EMC_holds_the_flow_following_packets_hit_the_EMC()
    {
        var emc = AlwaysInsertingEmc();
        var h = new PipelineHarness(emc, ScriptedUpcall.PortMask());
        byte[] first = PipelineFrames.Udp(1000);
        byte[] other = PipelineFrames.Udp(2000);

        h.Process(first);
        h.Process(first, first);

        Assert.Equal(2, h.Stats.EmcHits);
        Assert.Equal(0, h.Stats.MegaflowHits);

        // Another packet flow under the same megaflow: first the classifier finds it, then the EMC.
        h.Process(other);
        h.Process(other);

        Assert.Equal(3, h.Stats.EmcHits);
        Assert.Equal(1, h.Stats.MegaflowHits);
        Assert.Single(h.Upcall.Calls);
        Assert.Equal(2, emc.Inserts);
    }

    [Fact]
    public void Packets_differing_only_in_wildcarded_fields_share_one_megaflow()
    {
        var h = new PipelineHarness(NeverInsertingEmc(), ScriptedUpcall.PortMask());

        h.Process(PipelineFrames.Udp(1000));
        h.Process(PipelineFrames.Udp(2000, destinationPort: 5353));
        h.Process(PipelineFrames.Tcp(Syn));

        Assert.Single(h.Upcall.Calls);
        Assert.Equal(1, h.Pipeline.Classifier.Count);
        Assert.Equal(2, h.Stats.MegaflowHits);
        Assert.Equal(3, h.Sink.Outputs.Count);
    }

    [Fact]
    public void Packets_differing_in_a_field_of_the_mask_get_a_megaflow_each()
    {
        var h = new PipelineHarness(NeverInsertingEmc(), ScriptedUpcall.PortAndSourcePortMask());

        h.Process(PipelineFrames.Udp(1000));
        h.Process(PipelineFrames.Udp(2000));
        h.Process(new TestPacket(PipelineFrames.Udp(1000), InPort: 2));

        Assert.Equal(3, h.Upcall.Calls.Count);
        Assert.Equal(3, h.Pipeline.Classifier.Count);
        Assert.Equal(0, h.Stats.MegaflowHits);
    }

    [Fact]
    public void Two_misses_of_one_megaflow_in_a_batch_cause_one_upcall()
    {
        var h = new PipelineHarness(NeverInsertingEmc(), ScriptedUpcall.PortMask());

        h.Process(PipelineFrames.Udp(1000, 0), PipelineFrames.Udp(2000, 1), PipelineFrames.Udp(1000, 2));

        Assert.Single(h.Upcall.Calls);
        Assert.Equal(1, h.Pipeline.Classifier.Count);
        Assert.Equal(1, h.Stats.UpcallsOk);
        Assert.Equal(2, h.Stats.MegaflowHits);
        Assert.Equal(3, h.SingleMegaflow().Stats.Packets);
        Assert.Equal(3, h.Sink.Outputs.Count);
    }

    [Fact]
    public void Megaflow_hits_found_after_an_upcall_in_the_same_batch_count_their_subtable_lookups()
    {
        var h = new PipelineHarness(NeverInsertingEmc(), ScriptedUpcall.PortMask());

        h.Process(PipelineFrames.Udp(1000), PipelineFrames.Udp(2000));
        h.Process(PipelineFrames.Udp(3000));

        // One subtable: every megaflow hit, whichever lookup found it, probed exactly one.
        Assert.Equal(2, h.Stats.MegaflowHits);
        Assert.Equal(2, h.Stats.SubtableLookups);
    }

    [Fact]
    public void A_failed_upcall_releases_the_packet_and_counts_it()
    {
        var h = new PipelineHarness(AlwaysInsertingEmc(), ScriptedUpcall.PortMask());
        h.Upcall.Succeeds = false;
        byte[] frame = PipelineFrames.Udp(1000);

        h.Process(frame, frame, frame);

        Assert.Equal(3, h.Stats.UpcallsFailed);
        Assert.Equal(0, h.Stats.UpcallsOk);
        Assert.Empty(h.Sink.Outputs);
        Assert.Equal(0, h.Pipeline.Classifier.Count);
        Assert.Equal(3, h.Sink.PacketsReleased);
        Assert.Equal(PipelineHarness.PoolSize, h.Packets.Available);

        // Nothing was installed, so once the slow path answers the flow is set up as usual.
        h.Upcall.Succeeds = true;
        h.Process(frame);

        Assert.Equal(1, h.Stats.UpcallsOk);
        Assert.Single(h.Sink.Outputs);
    }

    [Fact]
    public void A_failed_upcall_does_not_hold_back_the_other_flows_of_its_batch()
    {
        var h = new PipelineHarness(null, ScriptedUpcall.PortMask());
        h.Process(PipelineFrames.Udp(1000, 0));
        h.Upcall.Succeeds = false;

        h.Process(
            new TestPacket(PipelineFrames.Udp(1000, 1), InPort: 2),
            new TestPacket(PipelineFrames.Udp(1000, 2), InPort: 1));

        Assert.Equal(1, h.Stats.UpcallsFailed);
        Assert.Equal([0, 2], Sequences(h.Sink.Outputs));
        Assert.Equal(PipelineHarness.PoolSize, h.Packets.Available);
    }

    [Fact]
    public void Without_an_EMC_the_megaflow_classifier_serves_the_flow()
    {
        var h = new PipelineHarness(null, ScriptedUpcall.PortMask());
        byte[] frame = PipelineFrames.Udp(1000);

        h.Process(frame);
        h.Process(frame, frame);

        Assert.Null(h.Pipeline.Emc);
        Assert.Single(h.Upcall.Calls);
        Assert.Equal(2, h.Stats.MegaflowHits);
        Assert.Equal(0, h.Stats.EmcHits);
        Assert.Equal(3, h.Sink.Outputs.Count);
    }

    [Fact]
    public void Within_a_batch_the_packets_of_each_flow_leave_in_arrival_order()
    {
        var h = new PipelineHarness(AlwaysInsertingEmc(), ScriptedUpcall.PortAndSourcePortMask());

        // Megaflow A already installed and its packet flow A1 in the EMC; A2 falls under A but
        // only the classifier knows it; B is new. All three lookup paths in one batch.
        byte[] a1 = PipelineFrames.Udp(1000, -1, destinationPort: 53);
        h.Process(a1);
        h.Sink.Outputs.Clear();

        h.Process(
            PipelineFrames.Udp(1000, 0, destinationPort: 54),
            PipelineFrames.Udp(2000, 1),
            PipelineFrames.Udp(1000, 2, destinationPort: 53),
            PipelineFrames.Udp(2000, 3),
            PipelineFrames.Udp(1000, 4, destinationPort: 54),
            PipelineFrames.Udp(1000, 5, destinationPort: 53));

        Assert.Equal([0, 2, 4, 5], Sequences(h.Sink.Outputs, sourcePort: 1000));
        Assert.Equal([1, 3], Sequences(h.Sink.Outputs, sourcePort: 2000));
        Assert.Equal(2, h.Stats.EmcHits);
        Assert.Equal(3, h.Stats.MegaflowHits);
        Assert.Equal(2, h.Upcall.Calls.Count);
    }

    [Fact]
    public void EMC_hits_and_megaflow_hits_of_one_megaflow_keep_arrival_order()
    {
        var h = new PipelineHarness(AlwaysInsertingEmc(), ScriptedUpcall.PortMask());
        h.Process(PipelineFrames.Udp(1000, -1));
        h.Sink.Outputs.Clear();

        h.Process(PipelineFrames.Udp(2000, 0), PipelineFrames.Udp(1000, 1), PipelineFrames.Udp(3000, 2), PipelineFrames.Udp(1000, 3));

        Assert.Equal([0, 1, 2, 3], Sequences(h.Sink.Outputs));
    }

    [Fact]
    public void Megaflow_stats_credit_packets_bytes_tcp_flags_and_last_use()
    {
        var h = new PipelineHarness(AlwaysInsertingEmc(), ScriptedUpcall.PortMask());
        byte[] syn = PipelineFrames.Tcp(Syn);
        byte[] ack = PipelineFrames.Tcp(Ack);

        // Through an upcall, then the classifier (the ACK's key is new to the EMC), then the EMC.
        h.NowMs = 10;
        h.Process(syn);
        h.NowMs = 25;
        h.Process(ack);
        h.NowMs = 40;
        h.Process(ack);

        MegaflowStats stats = h.SingleMegaflow().Stats;
        Assert.Equal(3, stats.Packets);
        Assert.Equal(syn.Length + (2 * ack.Length), stats.Bytes);
        Assert.Equal(Syn | Ack, stats.TcpFlags);
        Assert.Equal(40, stats.UsedMs);
        Assert.Equal(1, h.Stats.UpcallsOk);
        Assert.Equal(1, h.Stats.MegaflowHits);
        Assert.Equal(1, h.Stats.EmcHits);
    }

    [Fact]
    public void Recirculated_packets_count_as_recirculations_not_as_received()
    {
        var h = new PipelineHarness(NeverInsertingEmc(), ScriptedUpcall.PortMask());
        byte[] frame = PipelineFrames.Udp(1000);

        h.Process(new TestPacket(frame), new TestPacket(frame, RecircId: 7), new TestPacket(frame, RecircId: 7), new TestPacket(frame));

        Assert.Equal(2, h.Stats.PacketsReceived);
        Assert.Equal(2, h.Stats.Recirculations);
        Assert.Equal([0u, 7u], h.Upcall.Calls.Select(k => k.RecircId));
        Assert.Equal(2, h.Pipeline.Classifier.Count);
    }

    [Theory]
    [MemberData(nameof(ActionLists))]
    public void Every_packet_and_batch_returns_to_its_pools_over_many_batches(string name, DatapathAction[] actions)
    {
        Assert.NotEmpty(name);
        var h = new PipelineHarness(new ExactMatchCache(insertInverseProbability: 4), ScriptedUpcall.PortAndSourcePortMask(), new ActionList(actions));
        byte[][] frames = [.. Enumerable.Range(0, PacketBatch.MaxSize).Select(i => PipelineFrames.Udp((ushort)(1000 + (i % 5)), i))];
        long sent = 0;
        long createdAfterWarmUp = 0;

        for (int round = 0; round < 300; round++)
        {
            // Batches of varying size; every third one from port 2, where the slow path refuses.
            h.Upcall.Succeeds = round % 3 != 2;
            byte[][] batch = frames[..(1 + (round % PacketBatch.MaxSize))];
            h.Process([.. batch.Select(f => new TestPacket(f, InPort: h.Upcall.Succeeds ? 1u : 2u))]);
            sent += batch.Length;
            Assert.Equal(PipelineHarness.PoolSize, h.Packets.Available);
            if (round == 2 * PacketBatch.MaxSize)
            {
                createdAfterWarmUp = h.Batches.Created;
            }
        }

        Assert.Equal(sent, h.Sink.PacketsReleased);
        Assert.Equal(createdAfterWarmUp, h.Batches.Created);
        Assert.InRange(h.Batches.Created, 1, PacketBatch.MaxSize);
    }

    public static TheoryData<string, DatapathAction[]> ActionLists() => new()
    {
        { "output", [DatapathAction.Output(2)] },
        { "two outputs", [DatapathAction.Output(2), DatapathAction.Output(3)] },
        { "drop", [DatapathAction.Drop()] },
        { "no actions", [] },
        { "recirculate", [DatapathAction.Recirculate(9)] },
        { "conntrack", [DatapathAction.Conntrack(new ConntrackArgs { Zone = 1 }), DatapathAction.Output(2)] },
    };

    [Fact]
    public void A_megaflow_marked_dead_is_no_longer_hit_and_the_next_packet_upcalls_again()
    {
        var h = new PipelineHarness(AlwaysInsertingEmc(), ScriptedUpcall.PortMask());
        byte[] frame = PipelineFrames.Udp(1000);
        h.Process(frame);
        h.Process(frame);
        Megaflow old = h.SingleMegaflow();
        Assert.Equal(1, h.Stats.EmcHits);

        old.MarkDead();
        h.Process(frame);

        Assert.Equal(2, h.Upcall.Calls.Count);
        Assert.Equal(1, h.Stats.EmcHits);
        Assert.Equal(0, h.Stats.MegaflowHits);
        Assert.Equal(2, old.Stats.Packets);
        Megaflow replacement = h.Pipeline.Classifier.Lookup(h.Upcall.Calls[1])!;
        Assert.NotSame(old, replacement);
        Assert.Equal(1, replacement.Stats.Packets);

        // The replacement serves the flow from now on, through the EMC again.
        h.Process(frame);
        Assert.Equal(2, h.Stats.EmcHits);
        Assert.Equal(2, replacement.Stats.Packets);
        Assert.Equal(4, h.Sink.Outputs.Count);
    }

    [Fact]
    public void An_empty_batch_changes_nothing()
    {
        var h = new PipelineHarness(AlwaysInsertingEmc(), ScriptedUpcall.PortMask());

        h.Process(Array.Empty<byte[]>());

        Assert.Equal(0, h.Stats.Batches);
        Assert.Empty(h.Upcall.Calls);
        Assert.Equal(0, h.Sink.BatchesReturned);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Processing_allocates_nothing_in_steady_state(bool withEmc)
    {
        var emc = withEmc ? new ExactMatchCache(insertInverseProbability: 3) : null;
        var h = new PipelineHarness(emc, ScriptedUpcall.PortAndSourcePortMask());
        h.Sink.Record = false;
        TestPacket[][] batches =
        [
            [.. Enumerable.Range(0, PacketBatch.MaxSize).Select(i => new TestPacket(PipelineFrames.Udp((ushort)(1000 + (i % 7)), i, (ushort)(53 + i))))],
            [.. Enumerable.Range(0, 5).Select(i => new TestPacket(PipelineFrames.Udp((ushort)(2000 + i), i), InPort: 2))],
        ];
        for (int i = 0; i < 200; i++)
        {
            h.Process(batches[i % 2]);
        }

        long outputsBefore = h.Sink.OutputCount;
        long first = AllocatedOver(2000);
        long second = AllocatedOver(2000);

        // An allocation the pipeline makes per packet or per batch shows in both windows. Under load
        // the runtime now and then charges this thread once for itself (one iteration of a whole run,
        // 176-3264 bytes at a random iteration, no collection there, on main before this test knew it),
        // which shows in one window only.
        Assert.True(Math.Min(first, second) == 0, $"allocated {first} and {second} bytes over two windows of 2000 batches");
        Assert.Equal(2000 * (PacketBatch.MaxSize + 5), h.Sink.OutputCount - outputsBefore);

        long AllocatedOver(int iterations)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < iterations; i++)
            {
                h.Process(batches[i % 2]);
            }

            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
    }

    private static ExactMatchCache AlwaysInsertingEmc() => new(insertInverseProbability: 1);

    private static ExactMatchCache NeverInsertingEmc() => new(insertInverseProbability: 0);

    private static int[] Sequences(List<(uint Port, byte[] Frame)> outputs, ushort? sourcePort = null) =>
        [.. outputs
            .Where(o => sourcePort is null || PipelineFrames.SourcePortOf(o.Frame) == sourcePort)
            .Select(o => PipelineFrames.SequenceOf(o.Frame))];
}
