using System.Net;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Conntrack.Nat;
using Datapath.Tests.Support;
using TestSupport.Frames;

namespace Datapath.Tests.Conntrack.Transfer;

/// <summary>
/// A table's replica (a conntrack shard's copy on another node): a seed read while the table changes,
/// then one delta per interval, give the copy the owner's table after every interval; a connection
/// costs one record per interval however many packets it saw; a damaged delta changes nothing.
/// </summary>
public sealed class ReplicationTests
{
    private const int ChunkBytes = 96 * 1024;
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true, Mark = 0x2a, MarkMask = 0xff, Label = 7, LabelMask = 0xf };

    public static TheoryData<string> Captures() => new(TestData.AllCapturePcaps().Select(Path.GetFileName)!);

    [Theory]
    [MemberData(nameof(Captures))]
    public void A_seed_read_while_traffic_flows_then_a_delta_per_interval_keep_the_copy_equal_to_the_owner(string capture)
    {
        var frames = TableTransferTests.Read(capture);
        var owner = new ConnectionTable(Defaults.ConntrackOptions);
        var copy = new ConnectionTable(Defaults.ConntrackOptions);
        int third = frames.Count / 3;
        Run(owner, frames.Take(third));

        // The seed in small chunks, with packets between them (the table changes under the cursor).
        var seed = owner.BeginReplicaSeed();
        int next = third;
        while (seed.TryNextChunk(512, out var chunk))
        {
            Apply(copy, chunk);
            if (next < 2 * third)
            {
                Run(owner, frames.Skip(next++).Take(1));
            }
        }

        Run(owner, frames.Skip(next).Take((2 * third) - next));
        Apply(copy, Drain(owner));
        Assert.Equal(TableTransferTests.Sorted(owner), TableTransferTests.Sorted(copy));

        // An interval every 7 packets: equal after each.
        foreach (var interval in frames.Skip(2 * third).Chunk(7))
        {
            Run(owner, interval);
            Apply(copy, Drain(owner));
            Assert.Equal(TableTransferTests.Sorted(owner), TableTransferTests.Sorted(copy));
        }

        // TCP windows and states came too: the capture again gets the same answers from both.
        foreach (var (input, time) in frames)
        {
            Assert.Equal(owner.Execute(in input, in Commit, time), copy.Execute(in input, in Commit, time));
        }

        // Expiry on the owner reaches the copy as removals.
        long later = frames.Count > 0 ? frames[^1].TimeMs + 3_600_000 : 3_600_000;
        owner.Sweep(later, int.MaxValue);
        Apply(copy, Drain(owner));
        Assert.Equal(TableTransferTests.Sorted(owner), TableTransferTests.Sorted(copy));
        Assert.Equal(owner.Count, copy.Count);
    }

    [Fact]
    public void A_connection_costs_one_record_per_interval_however_many_packets_it_saw()
    {
        var owner = new ConnectionTable(Defaults.ConntrackOptions);
        var (syn, synAck, ack) = Handshake(40000);
        owner.Execute(in syn, in Commit, 1);
        owner.Execute(in synAck, in Commit, 2);
        owner.Execute(in ack, in Commit, 3);
        owner.BeginReplicaSeed();

        for (uint i = 0; i < 1000; i++)
        {
            var data = Tcp("10.0.0.1", "10.0.0.2", 40000, 80, TcpFlags.Ack | TcpFlags.Psh, 1001 + (i * 10), 5001, payload: 10);
            owner.Execute(in data, in Commit, 10 + i);
        }

        var chunks = new List<byte[]>();
        Assert.Equal(1, owner.DrainChanges(ChunkBytes, chunks));
        Assert.Single(chunks);
        Assert.Equal(ConnectionTable.TransferHeaderBytes + ConnectionTable.PlainConnectionRecordBytes, chunks[0].Length);
        Assert.Equal(108, ConnectionTable.PlainConnectionRecordBytes);

        // Nothing changed since: nothing to send.
        chunks.Clear();
        Assert.Equal(0, owner.DrainChanges(ChunkBytes, chunks));
        Assert.Empty(chunks);

        // A removal costs its key.
        owner.Flush((ushort?)null);
        Assert.Equal(1, owner.DrainChanges(ChunkBytes, chunks));
        Assert.Equal(ConnectionTable.TransferHeaderBytes + ConnectionTable.RemovalRecordBytes, chunks[0].Length);
    }

    [Fact]
    public void Deltas_are_never_larger_than_asked_and_hold_every_changed_connection_once()
    {
        var owner = new ConnectionTable(Defaults.ConntrackOptions);
        owner.BeginReplicaSeed();
        for (ushort port = 1000; port < 3000; port++)
        {
            var udp = Udp("10.0.0.1", "10.0.0.2", port, 53);
            owner.Execute(in udp, in Commit, 1);
            owner.Execute(in udp, in Commit, 2);
        }

        var chunks = new List<byte[]>();
        Assert.Equal(2000, owner.DrainChanges(4096, chunks));
        Assert.All(chunks, c => Assert.InRange(c.Length, ConnectionTable.TransferHeaderBytes, 4096));
        Assert.Equal((2000 * ConnectionTable.PlainConnectionRecordBytes) + (chunks.Count * ConnectionTable.TransferHeaderBytes), chunks.Sum(c => c.Length));

        var copy = new ConnectionTable(Defaults.ConntrackOptions);
        Apply(copy, chunks);
        Assert.Equal(TableTransferTests.Sorted(owner), TableTransferTests.Sorted(copy));
    }

    [Fact]
    public void A_tuple_removed_and_created_again_within_one_interval_reaches_the_copy_as_its_latest_connection()
    {
        var owner = new ConnectionTable(Defaults.ConntrackOptions);
        var copy = new ConnectionTable(Defaults.ConntrackOptions);
        var (syn, synAck, ack) = Handshake(41000);
        owner.Execute(in syn, in Commit, 1);
        owner.Execute(in synAck, in Commit, 2);
        owner.Execute(in ack, in Commit, 3);
        var seed = owner.BeginReplicaSeed();
        while (seed.TryNextChunk(ChunkBytes, out var chunk))
        {
            Apply(copy, chunk);
        }

        // Within one interval: flushed, opened again with other marks, and another connection takes the freed slot.
        owner.Flush((ushort?)null);
        var again = new ConntrackArgs { Zone = 0, Commit = true, Mark = 0x99, MarkMask = 0xff };
        owner.Execute(in syn, in again, 10);
        var other = Udp("10.0.0.3", "10.0.0.4", 5353, 53);
        owner.Execute(in other, in Commit, 11);

        Apply(copy, Drain(owner));

        Assert.Equal(TableTransferTests.Sorted(owner), TableTransferTests.Sorted(copy));
        Assert.Equal(2, copy.Count);
        Assert.Equal(owner.Execute(in synAck, in again, 12), copy.Execute(in synAck, in again, 12));
    }

    [Fact]
    public void Translated_connections_and_reservations_reach_the_copy_and_their_end_too()
    {
        var owner = new ConnectionTable(Defaults.ConntrackOptions);
        var copy = new ConnectionTable(Defaults.ConntrackOptions);
        owner.BeginReplicaSeed();
        var snat = new NatArgs { Kind = NatKind.Source, HasAddress = true, MinAddress = Ip("192.0.2.100"), MaxAddress = Ip("192.0.2.100") };
        for (ushort port = 5000; port < 5010; port++)
        {
            owner.Execute(Udp("10.0.0.1", "198.51.100.53", port, 53), new ConntrackArgs { Commit = true, Nat = snat }, 1_000);
        }

        var reserved = Udp("198.51.100.9", "192.0.2.7", 53, 4000).Key;
        var holder = Udp("10.0.0.9", "198.51.100.9", 4000, 53).Key;
        Assert.True(owner.TryReserveReplyTuple(in reserved, in holder, 1_000));
        Apply(copy, Drain(owner));

        Assert.Equal(TableTransferTests.Sorted(owner), TableTransferTests.Sorted(copy));
        Assert.True(copy.TryGetReplyOwner(in reserved, out var copiedHolder));
        Assert.Equal(holder, copiedHolder);
        var reply = Udp("198.51.100.53", "192.0.2.100", 53, 5003);
        var existing = new ConntrackArgs { Nat = NatArgs.Existing };
        Assert.Equal(owner.Execute(in reply, in existing, 2_000), copy.Execute(in reply, in existing, 2_000));
        Apply(copy, Drain(owner));

        Assert.True(owner.ReleaseReplyTuple(in reserved, in holder));
        owner.Flush((ushort?)null);
        Apply(copy, Drain(owner));
        Assert.Equal(0, copy.Count);
        Assert.Equal(0, copy.ReservedReplyTuples);
    }

    [Fact]
    public void A_damaged_or_foreign_delta_is_refused_whole_and_the_copy_is_unchanged()
    {
        var owner = new ConnectionTable(Defaults.ConntrackOptions);
        var copy = new ConnectionTable(Defaults.ConntrackOptions);
        owner.BeginReplicaSeed();
        for (ushort port = 1000; port < 1100; port++)
        {
            owner.Execute(Udp("10.0.0.1", "10.0.0.2", port, 53), in Commit, 1);
        }

        var chunk = Drain(owner).Single();
        var flipped = (byte[])chunk.Clone();
        flipped[^5] ^= 0x01;

        var damaged = copy.ApplyReplica(flipped);
        Assert.False(damaged.Ok);
        Assert.Contains("checksum", damaged.Error, StringComparison.Ordinal);
        Assert.False(copy.ApplyReplica(chunk.AsSpan(0, chunk.Length - 1)).Ok);
        Assert.False(copy.ApplyReplica(chunk.AsSpan(0, 10)).Ok);
        Assert.False(copy.ApplyReplica(chunk, _ => false).Ok);
        Assert.Equal(0, copy.Count);

        // A delta is no table chunk: a hand-off refuses it.
        Assert.False(copy.Import(chunk).Ok);

        Assert.True(copy.ApplyReplica(chunk).Ok);
        Assert.Equal(100, copy.Count);
    }

    [Fact]
    public void Tracking_costs_the_packet_path_no_allocation_once_its_list_has_grown()
    {
        var owner = new ConnectionTable(Defaults.ConntrackOptions);
        var inputs = Enumerable.Range(0, 1000).Select(i => Udp("10.0.0.1", "10.0.0.2", (ushort)(1000 + i), 53)).ToArray();
        owner.BeginReplicaSeed();
        var chunks = new List<byte[]>();

        void Interval()
        {
            for (int round = 0; round < 10; round++)
            {
                foreach (var input in inputs)
                {
                    owner.Execute(in input, in Commit, round);
                }
            }
        }

        Interval();
        owner.DrainChanges(ChunkBytes, chunks);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Interval();
        long packetPath = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, packetPath);
        Assert.Equal(inputs.Length, owner.PendingChanges);
    }

    [Fact]
    public void Without_tracking_nothing_is_listed()
    {
        var owner = new ConnectionTable(Defaults.ConntrackOptions);
        owner.Execute(Udp("10.0.0.1", "10.0.0.2", 1, 53), in Commit, 1);
        Assert.False(owner.TracksChanges);
        Assert.Equal(0, owner.PendingChanges);

        owner.BeginReplicaSeed();
        owner.Execute(Udp("10.0.0.1", "10.0.0.2", 2, 53), in Commit, 2);
        Assert.Equal(1, owner.PendingChanges);
        owner.StopTrackingChanges();
        owner.Execute(Udp("10.0.0.1", "10.0.0.2", 3, 53), in Commit, 3);
        Assert.Equal(0, owner.PendingChanges);
    }

    [Fact]
    public void A_replica_chunk_whose_expiry_is_past_its_clock_plus_the_longest_timeout_is_refused_whole()
    {
        const long day100 = 100L * 24 * 3600 * 1000;
        var owner = new ConnectionTable(Defaults.ConntrackOptions);
        owner.Execute(Udp("10.0.0.1", "10.0.0.2", 5000, 53), in Commit, day100);
        Assert.True(owner.BeginReplicaSeed().TryNextChunk(ChunkBytes, out var seed));
        var copy = new ConnectionTable(Defaults.ConntrackOptions);

        var early = copy.ApplyReplica(seed, clockMs: 0);
        Assert.False(early.Ok);
        Assert.Contains("past the owner's clock 0 ms plus the longest timeout", early.Error, StringComparison.Ordinal);
        Assert.Contains("out of range", copy.ApplyReplica(seed, clockMs: long.MaxValue).Error, StringComparison.Ordinal);
        Assert.Equal(0, copy.Count);

        var onTime = copy.ApplyReplica(seed, clockMs: day100);
        Assert.True(onTime.Ok, onTime.Error);
        Assert.Equal(1, copy.Count);
    }

    private static void Run(ConnectionTable table, IEnumerable<(ConntrackInput Input, long TimeMs)> frames)
    {
        foreach (var (input, time) in frames)
        {
            table.Execute(in input, in Commit, time);
        }
    }

    private static List<byte[]> Drain(ConnectionTable owner)
    {
        var chunks = new List<byte[]>();
        owner.DrainChanges(ChunkBytes, chunks);
        return chunks;
    }

    private static void Apply(ConnectionTable copy, IEnumerable<byte[]> chunks)
    {
        foreach (var chunk in chunks)
        {
            Apply(copy, chunk);
        }
    }

    private static void Apply(ConnectionTable copy, byte[] chunk)
    {
        var result = copy.ApplyReplica(chunk);
        Assert.True(result.Ok, result.Error);
    }

    private static (ConntrackInput Syn, ConntrackInput SynAck, ConntrackInput Ack) Handshake(ushort port) => (
        Tcp("10.0.0.1", "10.0.0.2", port, 80, TcpFlags.Syn, 1000, 0),
        Tcp("10.0.0.2", "10.0.0.1", 80, port, TcpFlags.Syn | TcpFlags.Ack, 5000, 1001),
        Tcp("10.0.0.1", "10.0.0.2", port, 80, TcpFlags.Ack, 1001, 5001));

    private static ConntrackInput Tcp(string source, string destination, ushort sourcePort, ushort destinationPort, ushort flags, uint seq, uint ack, int payload = 0) =>
        CtHarness.Parse(Frame.Ip(source, destination).Tcp(sourcePort, destinationPort, flags, seq, ack).Payload(payload).Build());

    private static ConntrackInput Udp(string source, string destination, ushort sourcePort, ushort destinationPort) =>
        CtHarness.Parse(Frame.Ip(source, destination).Udp(sourcePort, destinationPort).Payload(12).Build());

    private static UInt128 Ip(string address)
    {
        UInt128 n = 0;
        foreach (byte b in IPAddress.Parse(address).GetAddressBytes())
        {
            n = (n << 8) | b;
        }

        return n;
    }
}
