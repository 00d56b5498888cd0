using System.Buffers.Binary;
using System.Net;
using Datapath.Actions;
using Datapath.Packets;
using PacketDotNet;
using Packet = Datapath.Packets.Packet;

namespace Datapath.Tests.Actions;

public class ActionExecutorTests
{
    private readonly Recording _recording = new();
    private readonly ExecutionStats _stats = new();
    private RecordingContext _ctx;

    public ActionExecutorTests()
    {
        _ctx = new RecordingContext(_recording);
    }

    [Fact]
    public void Output_to_two_ports_then_drop_sends_every_packet_to_each_port_then_releases()
    {
        byte[][] frames = [TestFrames.Ipv4Tcp(sport: 1).Build(), TestFrames.Ipv4Tcp(sport: 2).Build()];
        var batch = Batch(frames);
        var actions = List(DatapathAction.Output(1), DatapathAction.Output(2), DatapathAction.Drop());

        ActionExecutor.Execute(batch, actions, 0, ref _ctx, _stats);

        Assert.Equal(["output:1", "output:1", "output:2", "output:2", "release"], _recording.Events);
        Assert.Equal(
            [(1u, Hex(frames[0])), (1u, Hex(frames[1])), (2u, Hex(frames[0])), (2u, Hex(frames[1]))],
            _recording.Outputs.Select(o => (o.Port, Hex(o.Frame))));
        Assert.Same(batch, Assert.Single(_recording.Released).Batch);
        Assert.Equal(4, _stats.PacketsOutput);
        // Sent before the drop: each counted once as sent, none as dropped (Open vSwitch counts a drop only for a packet its actions sent nowhere).
        Assert.Equal(2, _stats.PacketsSent);
        Assert.Equal(0, _stats.PacketsDropped);
        Assert.Equal(2, _stats.PacketsReleased);
    }

    [Fact]
    public void Actions_after_a_drop_are_not_run()
    {
        var batch = Batch(TestFrames.Ipv4Udp().Build());

        ActionExecutor.Execute(batch, List(DatapathAction.Drop(), DatapathAction.Output(3)), 0, ref _ctx, _stats);

        Assert.Equal(["release"], _recording.Events);
        Assert.Equal(0, _stats.PacketsOutput);
        Assert.Equal(1, _stats.PacketsDropped);
    }

    [Fact]
    public void The_list_ending_without_hand_over_releases_the_whole_batch()
    {
        var batch = Batch(TestFrames.Ipv4Tcp().Build(), TestFrames.Ipv6Tcp().Build(), TestFrames.Ipv4Udp().Build());
        Packet[] packets = batch.Packets.ToArray();

        ActionExecutor.Execute(batch, List(DatapathAction.Output(7)), 0, ref _ctx, _stats);

        var released = Assert.Single(_recording.Released);
        Assert.Same(batch, released.Batch);
        Assert.Equal(packets, released.Packets);
        Assert.Equal(3, _stats.PacketsReleased);
        Assert.Equal(0, _stats.PacketsDropped);
    }

    [Fact]
    public void An_empty_action_list_releases_without_output()
    {
        var batch = Batch(TestFrames.Ipv4Tcp().Build());

        ActionExecutor.Execute(batch, ActionList.Empty, 0, ref _ctx, _stats);

        Assert.Equal(["release"], _recording.Events);
    }

    [Fact]
    public void Output_sees_earlier_rewrites_and_later_ones_do_not_reach_the_sent_copy()
    {
        var batch = Batch(TestFrames.Ipv4Tcp().Build());
        var actions = List(
            SetField(SetFieldTarget.Ipv4Dst, SetFieldActionTests.V4("10.0.0.9"), 0xFFFF_FFFF),
            DatapathAction.Output(1),
            SetField(SetFieldTarget.Ipv4Dst, SetFieldActionTests.V4("10.0.0.10"), 0xFFFF_FFFF),
            DatapathAction.Output(2));

        ActionExecutor.Execute(batch, actions, 0, ref _ctx, _stats);

        Assert.Equal(IPAddress.Parse("10.0.0.9"), Destination(_recording.Outputs[0].Frame));
        Assert.Equal(IPAddress.Parse("10.0.0.10"), Destination(_recording.Outputs[1].Frame));
        ChecksumAssert.AllValid(_recording.Outputs[0].Frame);
        ChecksumAssert.AllValid(_recording.Outputs[1].Frame);
    }

    [Fact]
    public void Conntrack_hands_the_batch_over_and_resuming_runs_the_rest()
    {
        var batch = Batch(TestFrames.Ipv4Tcp().Build(), TestFrames.Ipv4Tcp(sport: 5).Build());
        var ct = new ConntrackArgs { Zone = 5, Commit = true, Mark = 0x10, MarkMask = 0xFF };
        var actions = List(
            SetField(SetFieldTarget.NwTtl, 10, 0xFF),
            DatapathAction.Conntrack(ct),
            DatapathAction.Output(2));

        ActionExecutor.Execute(batch, actions, 0, ref _ctx, _stats);

        var handed = Assert.Single(_recording.ToConntrack);
        Assert.Same(batch, handed.Batch);
        Assert.Same(actions, handed.Actions);
        Assert.Equal(ct, handed.Args);
        Assert.Equal(2, handed.ResumeAt);
        Assert.Equal(["ct:2"], _recording.Events);
        Assert.Equal(2, _stats.PacketsToConntrack);

        // The owner sets the ct fields and resumes where the executor said.
        foreach (Packet packet in batch.Packets)
        {
            packet.Metadata.CtState = CtState.Tracked | CtState.New;
        }

        ActionExecutor.Execute(batch, actions, handed.ResumeAt, ref _ctx, _stats);

        Assert.Equal(["ct:2", "output:2", "output:2", "release"], _recording.Events);
        Assert.All(_recording.Outputs, o => Assert.Equal(10, TestFrames.Parse(o.Frame).Extract<IPv4Packet>().TimeToLive));
        Assert.Equal(2, _stats.Executions);
    }

    [Fact]
    public void Conntrack_as_the_last_action_resumes_at_the_end_and_then_releases()
    {
        var batch = Batch(TestFrames.Ipv4Udp().Build());
        var actions = List(DatapathAction.Output(1), DatapathAction.Conntrack(new ConntrackArgs { Zone = 1 }));

        ActionExecutor.Execute(batch, actions, 0, ref _ctx, _stats);
        int resumeAt = Assert.Single(_recording.ToConntrack).ResumeAt;
        ActionExecutor.Execute(batch, actions, resumeAt, ref _ctx, _stats);

        Assert.Equal(2, resumeAt);
        Assert.Equal(["output:1", "ct:2", "release"], _recording.Events);
    }

    [Fact]
    public void Recirculate_sets_the_id_increments_the_depth_and_hands_over()
    {
        var batch = Batch(TestFrames.Ipv4Tcp().Build(), TestFrames.Ipv6Udp().Build());
        batch[1].Metadata.RecircDepth = 3;
        batch[1].Metadata.RecircId = 7;

        ActionExecutor.Execute(batch, List(DatapathAction.Recirculate(42), DatapathAction.Output(9)), 0, ref _ctx, _stats);

        Assert.Same(batch, Assert.Single(_recording.Recirculated));
        Assert.Equal(["recirc"], _recording.Events);
        Assert.Equal(42u, batch[0].Metadata.RecircId);
        Assert.Equal(1, batch[0].Metadata.RecircDepth);
        Assert.Equal(42u, batch[1].Metadata.RecircId);
        Assert.Equal(4, batch[1].Metadata.RecircDepth);
        Assert.Equal(2, _stats.PacketsRecirculated);
    }

    [Fact]
    public void Recirculation_depth_saturates_instead_of_wrapping()
    {
        var batch = Batch(TestFrames.Ipv4Tcp().Build());
        batch[0].Metadata.RecircDepth = byte.MaxValue;

        ActionExecutor.Execute(batch, List(DatapathAction.Recirculate(1)), 0, ref _ctx, _stats);

        Assert.Equal(byte.MaxValue, batch[0].Metadata.RecircDepth);
    }

    [Fact]
    public void Userspace_sends_each_packet_with_the_cookie_and_goes_on()
    {
        byte[][] frames = [TestFrames.Ipv4Tcp().Build(), TestFrames.Ipv4Icmp().Build()];
        var batch = Batch(frames);

        ActionExecutor.Execute(batch, List(DatapathAction.Userspace(0xC00C1E), DatapathAction.Output(4)), 0, ref _ctx, _stats);

        Assert.Equal([(Hex(frames[0]), 0xC00C1Eu), (Hex(frames[1]), 0xC00C1Eu)], _recording.ToUserspace.Select(u => (Hex(u.Frame), u.Cookie)));
        Assert.Equal(["userspace:12586014", "userspace:12586014", "output:4", "output:4", "release"], _recording.Events);
        Assert.Equal(2, _stats.PacketsToUserspace);
    }

    [Fact]
    public void Push_and_pop_VLAN_round_trip_restores_the_original_frame_and_offsets()
    {
        byte[] original = TestFrames.Ipv4Tcp().Build();
        var batch = Batch(original);
        var actions = List(
            DatapathAction.PushVlan(0x8100, 0x0064),
            DatapathAction.Output(1),
            DatapathAction.PopVlan(),
            DatapathAction.Output(2));

        ActionExecutor.Execute(batch, actions, 0, ref _ctx, _stats);

        Assert.Equal(100, TestFrames.Parse(_recording.Outputs[0].Frame).Extract<Ieee8021QPacket>().VlanIdentifier);
        Assert.Equal(original, _recording.Outputs[1].Frame);
        Assert.Equal(TestFrames.Offsets(original), (batch[0].L3Offset, batch[0].L4Offset));
    }

    [Fact]
    public void Set_field_after_a_push_finds_the_moved_headers()
    {
        var batch = Batch(TestFrames.Ipv6Tcp().Build());
        var actions = List(
            DatapathAction.PushVlan(0x8100, 5),
            SetField(SetFieldTarget.TpDst, 22, 0xFFFF),
            DatapathAction.Output(1));

        ActionExecutor.Execute(batch, actions, 0, ref _ctx, _stats);

        byte[] sent = _recording.Outputs[0].Frame;
        Assert.Equal(18, batch[0].L3Offset);
        Assert.Equal(22, TestFrames.Parse(sent).Extract<TcpPacket>().DestinationPort);
        ChecksumAssert.AllValid(sent);
    }

    [Fact]
    public void A_packet_that_cannot_take_its_tag_is_dropped_and_the_rest_keep_their_order()
    {
        var batch = Batch(TestFrames.Ipv4Tcp(sport: 1).Build(), TestFrames.Ipv4Tcp(sport: 2).Build(), TestFrames.Ipv4Tcp(sport: 3).Build());
        Packet full = batch[1];
        while (VlanAction.Push(full, 0x8100, 1))
        {
        }

        ActionExecutor.Execute(batch, List(DatapathAction.PushVlan(0x8100, 9), DatapathAction.Output(1)), 0, ref _ctx, _stats);

        Assert.Same(full, Assert.Single(_recording.Dropped));
        Assert.Equal(2, batch.Count);
        Assert.Equal([1, 3], _recording.Outputs.Select(o => (int)TestFrames.Parse(o.Frame).Extract<TcpPacket>().SourcePort));
        Assert.All(_recording.Outputs, o => Assert.Equal(9, BinaryPrimitives.ReadUInt16BigEndian(o.Frame.AsSpan(14))));
        Assert.Equal(1, _stats.PacketsDroppedNoHeadroom);
        Assert.Equal(["drop-packet", "output:1", "output:1", "release"], _recording.Events);
    }

    [Fact]
    public void Set_fields_whose_layer_is_absent_are_counted_and_skipped()
    {
        byte[] icmp = TestFrames.Ipv4Icmp().Build();
        var batch = Batch(icmp, icmp);

        ActionExecutor.Execute(batch, List(SetField(SetFieldTarget.TpSrc, 1, 0xFFFF), DatapathAction.Output(1)), 0, ref _ctx, _stats);

        Assert.Equal(2, _stats.SetFieldSkipped);
        Assert.All(_recording.Outputs, o => Assert.Equal(icmp, o.Frame));
    }

    [Fact]
    public void Pop_on_untagged_packets_is_counted()
    {
        ActionExecutor.Execute(Batch(TestFrames.Ipv4Tcp().Build()), List(DatapathAction.PopVlan()), 0, ref _ctx, _stats);

        Assert.Equal(1, _stats.VlanPopSkipped);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3)]
    public void A_start_index_outside_the_list_is_refused(int startAt)
    {
        var batch = Batch(TestFrames.Ipv4Tcp().Build());
        var actions = List(DatapathAction.Output(1), DatapathAction.Output(2));

        Assert.Throws<ArgumentOutOfRangeException>(() => ActionExecutor.Execute(batch, actions, startAt, ref _ctx, _stats));
        Assert.Empty(_recording.Events);
    }

    [Fact]
    public void A_class_context_works_through_the_same_generic_entry()
    {
        var ctx = new CountingClassContext();

        ActionExecutor.Execute(Batch(TestFrames.Ipv4Tcp().Build(), TestFrames.Ipv4Udp().Build()), List(DatapathAction.Output(1)), 0, ref ctx, _stats);

        Assert.Equal(2, ctx.Outputs);
        Assert.Equal(1, ctx.Releases);
    }

    [Fact]
    public void Executing_a_list_allocates_nothing()
    {
        var batch = Batch(TestFrames.Ipv4Tcp().Build(), TestFrames.Ipv6Udp().Build(), TestFrames.Ipv4Udp().Build());
        var actions = List(
            SetField(SetFieldTarget.Ipv4Src, 0x0A000063, 0xFFFF_FFFF),
            SetField(SetFieldTarget.Ipv6Dst, UInt128.MaxValue, 0xFF),
            SetField(SetFieldTarget.TpDst, 8080, 0xFFFF),
            SetField(SetFieldTarget.EthSrc, 0x020000000009, 0xFFFF_FFFF_FFFF),
            DatapathAction.PushVlan(0x8100, 3),
            DatapathAction.Output(1),
            DatapathAction.PopVlan(),
            DatapathAction.Userspace(1),
            DatapathAction.Output(2));
        var ctx = new CountingContext();
        ActionExecutor.Execute(batch, actions, 0, ref ctx, _stats); // JIT and first-call work

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            ActionExecutor.Execute(batch, actions, 0, ref ctx, _stats);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(101 * 6, ctx.Outputs);
        Assert.Equal(101, ctx.Releases);
    }

    private static PacketBatch Batch(params byte[][] frames)
    {
        var batch = new PacketBatch();
        foreach (byte[] frame in frames)
        {
            batch.Add(TestFrames.Load(frame));
        }

        return batch;
    }

    private static string Hex(byte[] frame) => Convert.ToHexString(frame);

    private static ActionList List(params DatapathAction[] actions) => new(actions);

    private static DatapathAction SetField(SetFieldTarget target, UInt128 value, UInt128 mask) =>
        DatapathAction.SetField(new SetFieldArgs(target, value, mask));

    private static IPAddress Destination(byte[] frame) => TestFrames.Parse(frame).Extract<IPv4Packet>().DestinationAddress;
}
