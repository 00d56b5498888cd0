using Actors.Conntrack;
using Actors.Conntrack.Replica;
using Actors.Tests.Support;
using Akka.Actor;
using Akka.TestKit;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Tests.Support;
using TestSupport.Frames;

namespace Actors.Tests.Conntrack.Replica;

/// <summary>
/// The owner's side of a shard's replica, driven interval by interval as a shard's owner drives it:
/// a full copy first, then one delta message per interval whatever the packet count, nothing when
/// nothing changed, a new full copy for a new replica node, a reset table or a keeper that asks.
/// Every chunk is a wire message (serialize-messages on).
/// </summary>
public sealed class ShardReplicatorTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true };
    private static readonly Address NodeB = new("akka.tcp", "datapath", "127.0.0.1", 4054);
    private static readonly Address NodeC = new("akka.tcp", "datapath", "127.0.0.1", 4055);
    private readonly ConntrackSettings _settings = Defaults.ConntrackSettings with { Shards = 1 };

    public ShardReplicatorTests()
        : base(TestConfigs.LocalVirtualTime())
    {
    }

    [Fact]
    public void A_full_copy_then_one_delta_per_interval_however_many_packets_and_nothing_when_nothing_changed()
    {
        var keeper = CreateTestProbe();
        var shard = new ConntrackShard(0, _settings, Sys.Scheduler.Now);
        var replica = new ShardReplica(0, _settings);
        Run(shard, Udp(1000, 1010), repeat: 1);

        Tick(shard, keeper, NodeB);
        var seed = keeper.ExpectMsg<ReplicaChunk>();
        Assert.Equal((true, true, 0L), (seed.Seed, seed.Last, seed.Sequence));
        Assert.True(replica.Apply(seed, Sys.Scheduler.Now).Ok);
        Assert.Equal(10, replica.Table!.Count);

        // 500 packets over 50 connections (10 old, 40 new) in one interval: one message, one record each.
        Run(shard, Udp(1000, 1050), repeat: 10);
        long before = shard.Replicator!.ChunksSent;
        Tick(shard, keeper, NodeB);
        Assert.Equal(before + 1, shard.Replicator.ChunksSent);
        var delta = keeper.ExpectMsg<ReplicaChunk>();
        Assert.Equal((false, 1L, seed.Epoch), (delta.Seed, delta.Sequence, delta.Epoch));
        Assert.Equal(ConnectionTable.TransferHeaderBytes + (50 * ConnectionTable.PlainConnectionRecordBytes), delta.Data.Length);
        Assert.True(replica.Apply(delta, Sys.Scheduler.Now).Ok);
        Assert.Equal(Dump(shard.Table), Dump(replica.Table));

        // Nothing changed: nothing sent.
        long sent = shard.Replicator.ChunksSent;
        Tick(shard, keeper, NodeB);
        Assert.Equal(sent, shard.Replicator.ChunksSent);
    }

    [Fact]
    public void A_delta_whose_sequence_would_wrap_or_whose_clock_no_node_can_have_is_refused_and_changes_nothing()
    {
        var keeper = CreateTestProbe();
        var shard = new ConntrackShard(0, _settings, Sys.Scheduler.Now);
        var replica = new ShardReplica(0, _settings);
        Run(shard, Udp(1000, 1010), repeat: 1);
        Tick(shard, keeper, NodeB);
        Assert.True(replica.Apply(keeper.ExpectMsg<ReplicaChunk>(), Sys.Scheduler.Now).Ok);
        Run(shard, Udp(1000, 1020), repeat: 1);
        Tick(shard, keeper, NodeB);
        var delta = keeper.ExpectMsg<ReplicaChunk>();
        var (sequenceBefore, clockBefore, dumpBefore) = (replica.NextSequence, replica.ClockMs, Dump(replica.Table!));

        // The sequence after long.MaxValue would wrap, and every later delta would look due.
        var wrapping = replica.Apply(delta with { Sequence = long.MaxValue }, Sys.Scheduler.Now);
        Assert.False(wrapping.Ok);
        Assert.Contains("sequence out of range", wrapping.Problem, StringComparison.Ordinal);

        // A clock near long.MaxValue would wrap when the replica's age is added (ClockAt).
        var farClock = replica.Apply(delta with { ClockMs = long.MaxValue }, Sys.Scheduler.Now);
        Assert.False(farClock.Ok);
        Assert.Contains("out of range", farClock.Problem, StringComparison.Ordinal);

        Assert.Equal((sequenceBefore, clockBefore), (replica.NextSequence, replica.ClockMs));
        Assert.Equal(dumpBefore, Dump(replica.Table!));
        Assert.True(replica.Apply(delta, Sys.Scheduler.Now).Ok);
        Assert.Equal(Dump(shard.Table), Dump(replica.Table!));
    }

    [Fact]
    public void A_new_replica_node_gets_a_full_copy_of_a_new_stream_and_the_old_one_is_told_to_forget()
    {
        var (b, c) = (CreateTestProbe(), CreateTestProbe());
        var shard = new ConntrackShard(0, _settings, Sys.Scheduler.Now);
        Tick(shard, b, NodeB);
        var first = b.ExpectMsg<ReplicaChunk>();
        Run(shard, Udp(2000, 2030), repeat: 2);

        Tick(shard, c, NodeC);

        Assert.Equal(0, b.ExpectMsg<ForgetReplica>().Shard);
        var seed = c.ExpectMsg<ReplicaChunk>();
        Assert.Equal((true, true, 0L), (seed.Seed, seed.Last, seed.Sequence));
        Assert.NotEqual(first.Epoch, seed.Epoch);
        var replica = new ShardReplica(0, _settings);
        Assert.True(replica.Apply(seed, Sys.Scheduler.Now).Ok);
        Assert.Equal(Dump(shard.Table), Dump(replica.Table!));
        Assert.Equal(NodeC, shard.Replicator!.ReplicaNode);
    }

    [Fact]
    public void Without_another_node_nothing_is_tracked_or_sent()
    {
        var shard = new ConntrackShard(0, _settings, Sys.Scheduler.Now);
        shard.Handle(new ReplicateShard(null, null, TestActor), TestActor, Sys.Scheduler.Now);
        Run(shard, Udp(1, 20), repeat: 1);

        Assert.False(shard.Table.TracksChanges);
        Assert.Equal(0, shard.Table.PendingChanges);
        Assert.Equal(0, shard.Replicator!.ChunksSent);
    }

    [Fact]
    public void A_keeper_that_asks_gets_a_new_seed_and_a_complaint_about_an_older_stream_changes_nothing()
    {
        var keeper = CreateTestProbe();
        var shard = new ConntrackShard(0, _settings, Sys.Scheduler.Now);
        Run(shard, Udp(1, 5), repeat: 1);
        Tick(shard, keeper, NodeB);
        long epoch = keeper.ExpectMsg<ReplicaChunk>().Epoch;

        shard.Handle(new ReplicaResyncNeeded(0, epoch + 1, "an older stream"), keeper.Ref, Sys.Scheduler.Now);
        Run(shard, Udp(5, 6), repeat: 1);
        Tick(shard, keeper, NodeB);
        var delta = keeper.ExpectMsg<ReplicaChunk>();
        Assert.Equal((false, epoch), (delta.Seed, delta.Epoch));

        shard.Handle(new ReplicaResyncNeeded(0, epoch, "missed one"), keeper.Ref, Sys.Scheduler.Now);
        Tick(shard, keeper, NodeB);
        var seed = keeper.ExpectMsg<ReplicaChunk>();
        Assert.Equal((true, 0L), (seed.Seed, seed.Sequence));
        Assert.NotEqual(epoch, seed.Epoch);

        // An operator reset: a new table, so a new full copy (of nothing).
        shard.Reset();
        Tick(shard, keeper, NodeB);
        var reset = keeper.ExpectMsg<ReplicaChunk>();
        Assert.Equal((true, true), (reset.Seed, reset.Last));
        Assert.Equal(ConnectionTable.TransferHeaderBytes, reset.Data.Length);
    }

    [Fact]
    public void A_large_copy_is_paced_over_intervals_and_the_changes_meanwhile_follow_it()
    {
        var keeper = CreateTestProbe();
        var shard = new ConntrackShard(0, _settings, Sys.Scheduler.Now);
        int perChunk = (ReplicaLimits.ChunkBytes - ConnectionTable.TransferHeaderBytes) / ConnectionTable.PlainConnectionRecordBytes;
        int connections = (ReplicaLimits.SeedChunksPerInterval * perChunk) + 100;
        Run(shard, UdpMany(connections), repeat: 1);

        Tick(shard, keeper, NodeB);
        Assert.Equal(ReplicaLimits.SeedChunksPerInterval, shard.Replicator!.ChunksSent);
        var first = keeper.ReceiveN(ReplicaLimits.SeedChunksPerInterval).Cast<ReplicaChunk>().ToList();
        Assert.All(first, c => Assert.True(c.Seed && !c.Last && c.Data.Length <= ReplicaLimits.ChunkBytes));

        // Changes during the copy: every connection removed, one created (wherever its slot is).
        shard.Table.Flush((ushort?)null);
        Run(shard, Udp(1, 2), repeat: 1);
        Tick(shard, keeper, NodeB);
        var rest = keeper.ReceiveN((int)shard.Replicator.ChunksSent - ReplicaLimits.SeedChunksPerInterval).Cast<ReplicaChunk>().ToList();
        Assert.True(rest[0].Seed && rest[0].Last);
        Assert.All(rest.Skip(1), c => Assert.False(c.Seed));
        Assert.True(rest.Count > 2, "the removals take several delta chunks");
        Assert.All(rest, c => Assert.True(c.Data.Length <= ReplicaLimits.ChunkBytes));

        var replica = new ShardReplica(0, _settings);
        foreach (var chunk in first.Concat(rest))
        {
            Assert.True(replica.Apply(chunk, Sys.Scheduler.Now).Ok);
        }

        Assert.Equal(Dump(shard.Table), Dump(replica.Table!));
        Assert.Equal(1, replica.Table!.Count);
    }

    [Fact]
    public void On_the_wire_an_interval_costs_its_records_and_one_envelope_of_a_few_hundred_bytes_per_96_KiB()
    {
        var shard = new ConntrackShard(0, _settings, Sys.Scheduler.Now);
        var keeper = CreateTestProbe();
        Tick(shard, keeper, NodeB);
        keeper.ExpectMsg<ReplicaChunk>();
        Run(shard, Udp(1, 101), repeat: 3);
        Tick(shard, keeper, NodeB);
        var delta = keeper.ExpectMsg<ReplicaChunk>();

        byte[] wire = Sys.Serialization.FindSerializerFor(delta).ToBinary(delta);

        // 100 connections, 300 packets: one message of 100 records (10.8 KB) and a Hyperion envelope (type and field names: 276 bytes when written).
        Assert.Equal(ConnectionTable.TransferHeaderBytes + (100 * ConnectionTable.PlainConnectionRecordBytes), delta.Data.Length);
        Assert.InRange(wire.Length - delta.Data.Length, 1, 400);
    }

    private void Tick(ConntrackShard shard, TestProbe keeper, Address node) =>
        shard.Handle(new ReplicateShard(keeper.Ref, node, TestActor), TestActor, Sys.Scheduler.Now);

    private static void Run(ConntrackShard shard, IEnumerable<ConntrackInput> inputs, int repeat)
    {
        var list = inputs.ToList();
        for (int i = 0; i < repeat; i++)
        {
            foreach (var input in list)
            {
                shard.Table.Execute(in input, in Commit, i);
            }
        }
    }

    private static IEnumerable<ConntrackInput> Udp(ushort first, ushort end)
    {
        for (int port = first; port < end; port++)
        {
            yield return CtInput(Frame.Ip("10.0.0.1", "10.0.0.2").Udp((ushort)port, 53).Payload(8).Build());
        }
    }

    private static IEnumerable<ConntrackInput> UdpMany(int count)
    {
        for (int i = 0; i < count; i++)
        {
            yield return CtInput(Frame.Ipv4(0x0A00_0000u + (uint)(i >> 12), 0x0A01_0001u).Udp((ushort)(1024 + (i & 0xfff)), 53).Payload(8).Build());
        }
    }

    private static ConntrackInput CtInput(byte[] frame)
    {
        var packet = new Datapath.Packets.Packet();
        packet.SetFrame(frame, 1);
        var key = default(Datapath.Flow.FlowKey);
        Datapath.Flow.FlowExtractor.Extract(packet, ref key, new Datapath.Flow.ExtractionStats());
        Assert.True(ConntrackInput.TryParse(packet, in key, 0, out var input));
        return input;
    }

    private static List<string> Dump(ConnectionTable table) =>
        [.. table.Snapshot().Select(s => ConntrackFormatter.FormatEntry(s)).Order(StringComparer.Ordinal)];
}
