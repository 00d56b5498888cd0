using Actors.Conntrack;
using Actors.Conntrack.Handoff;
using Actors.Conntrack.Replica;
using Actors.Tests.Support;
using Akka.Actor;
using Akka.TestKit;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Tests.Support;

namespace Actors.Tests.Conntrack.Replica;

/// <summary>
/// A node's replica keeper on its own (every message serialized): it builds a replica from a seed and
/// deltas, offers it, streams it to a claimant as a moved table and then forgets it; anything it cannot
/// use (a damaged, oversized, foreign, out-of-sequence or seedless chunk) is a counted drop with one
/// request for a new seed, and the keeper goes on.
/// </summary>
public sealed class ReplicaKeeperTests : Akka.TestKit.Xunit2.TestKit
{
    private const int Shards = 2;
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true, Mark = 9, MarkMask = 0xff };
    private readonly ConntrackSettings _settings = Defaults.ConntrackSettings with { Shards = Shards };
    private readonly IActorRef _keeper;
    private readonly TestProbe _owner;

    public ReplicaKeeperTests()
        : base(TestConfigs.LocalVirtualTime())
    {
        _keeper = Sys.ActorOf(ReplicaKeeperActor.Props());
        _keeper.Tell(new UseConntrackSettings(_settings));
        _owner = CreateTestProbe();
    }

    [Fact]
    public void A_seed_and_deltas_make_a_replica_that_is_offered_streamed_to_its_claimant_and_then_forgotten()
    {
        var table = OwnerTable(half: 0);
        var seed = table.BeginReplicaSeed();
        long sequence = 0;
        while (seed.TryNextChunk(2048, out var chunk))
        {
            Send(new ReplicaChunk(0, 7, sequence++, true, seed.Done, 1_000, chunk));
        }

        Run(table, half: 1);
        foreach (var delta in Drain(table))
        {
            Send(new ReplicaChunk(0, 7, sequence++, false, false, 2_000, delta));
        }

        var state = Statistics().Replicas.Single();
        Assert.Equal((0, 7L, sequence, true, table.Count), (state.Shard, state.Epoch, state.Sequence, state.Complete, state.Connections));

        var claimant = CreateTestProbe();
        _keeper.Tell(new OfferReplica(0), claimant.Ref);
        var offer = claimant.ExpectMsg<ReplicaOffered>();
        Assert.Equal((true, table.Count, 2_000L), (offer.Complete, offer.Connections, offer.ClockMs));
        _keeper.Tell(new OfferReplica(1), claimant.Ref);
        claimant.ExpectMsg<ReplicaNotHere>();

        _keeper.Tell(new ClaimShardState(0), claimant.Ref);
        var copy = new ConnectionTable(_settings.ShardOptions());
        ShardStateChunk chunk0;
        do
        {
            chunk0 = claimant.ExpectMsg<ShardStateChunk>();
            Assert.True(copy.Import(chunk0.Data).Ok);
            _keeper.Tell(new ShardStateChunkAck(0, chunk0.TransferId, chunk0.Sequence), claimant.Ref);
        }
        while (!chunk0.Last);

        Assert.Equal(Dump(table), Dump(copy));
        Assert.True(chunk0.ClockMs >= 2_000);

        // Taken: no longer followed (its owner's chunks are refused) and gone once accepted.
        Send(new ReplicaChunk(0, 7, sequence, false, false, 3_000, EmptySeed()));
        _keeper.Tell(new ShardStateAccepted(0, chunk0.TransferId, copy.Count), claimant.Ref);
        _keeper.Tell(new OfferReplica(0), claimant.Ref);
        claimant.ExpectMsg<ReplicaNotHere>();
        Assert.Equal(1, Statistics().ChunksDropped);
    }

    [Fact]
    public void A_damaged_chunk_is_a_counted_drop_and_one_request_for_a_new_seed_and_the_keeper_goes_on()
    {
        var table = OwnerTable(half: 0);
        var seed = SeedChunks(table);
        Send(new ReplicaChunk(0, 7, 0, true, true, 1_000, seed.Single()));
        Run(table, half: 1);
        var delta = Drain(table).Single();
        var damaged = (byte[])delta.Clone();
        damaged[^2] ^= 0x40;

        Send(new ReplicaChunk(0, 7, 1, false, false, 2_000, damaged));
        var resync = _owner.ExpectMsg<ReplicaResyncNeeded>();
        Assert.Equal((0, 7L), (resync.Shard, resync.Epoch));
        Assert.Contains("checksum", resync.Reason, StringComparison.Ordinal);

        // The same stream's next bad chunk: counted, not asked again.
        Send(new ReplicaChunk(0, 7, 1, false, false, 2_000, damaged));
        Send(new ReplicaChunk(0, 7, 1, false, false, 2_000, delta));
        var stats = Statistics();
        Assert.Equal((2L, 1L), (stats.ChunksDropped, stats.ResyncsRequested));
        Assert.False(stats.Replicas.Single().Complete);
        Assert.Equal(table.Count, stats.Replicas.Single().Connections);
        Assert.False(_owner.HasMessages);
    }

    [Fact]
    public void Chunks_it_cannot_use_are_dropped_and_counted()
    {
        var table = OwnerTable(half: 0);
        var seed = SeedChunks(table).Single();

        // A delta with no seed before it: the owner is asked for one.
        Send(new ReplicaChunk(0, 5, 3, false, false, 1_000, seed));
        Assert.Equal(5, _owner.ExpectMsg<ReplicaResyncNeeded>().Epoch);

        // A shard outside the cluster's count, a chunk larger than any chunk may be, a foreign shard's connections.
        Send(new ReplicaChunk(Shards, 6, 0, true, true, 1_000, seed));
        Send(new ReplicaChunk(1, 6, 0, true, true, 1_000, new byte[ReplicaLimits.ChunkBytes + 1]));
        _owner.ExpectMsg<ReplicaResyncNeeded>();
        Send(new ReplicaChunk(1, 8, 0, true, true, 1_000, seed));
        Assert.Contains("not this shard's", _owner.ExpectMsg<ReplicaResyncNeeded>().Reason, StringComparison.Ordinal);

        // A seed that skips a chunk.
        Send(new ReplicaChunk(0, 9, 0, true, false, 1_000, EmptySeed()));
        Send(new ReplicaChunk(0, 9, 2, true, true, 1_000, EmptySeed()));
        Assert.Contains("out of order", _owner.ExpectMsg<ReplicaResyncNeeded>().Reason, StringComparison.Ordinal);

        var stats = Statistics();
        Assert.Equal(5, stats.ChunksDropped);
        Assert.All(stats.Replicas, r => Assert.Equal((0, false), (r.Connections, r.Complete)));

        // A good seed still makes a replica, and ForgetReplica drops it.
        Send(new ReplicaChunk(0, 10, 0, true, true, 1_000, seed));
        Assert.Equal(table.Count, Statistics().Replicas.Single(r => r.Shard == 0).Connections);
        _keeper.Tell(new ForgetReplica(0), _owner.Ref);
        Assert.DoesNotContain(Statistics().Replicas, r => r.Shard == 0);
    }

    [Fact]
    public void A_keeper_whose_conntrack_has_not_started_offers_nothing_and_asks_for_the_seed_once_it_starts()
    {
        var early = Sys.ActorOf(ReplicaKeeperActor.Props());
        var table = OwnerTable(half: 0);

        early.Tell(new ReplicaChunk(0, 1, 0, true, true, 1_000, SeedChunks(table).Single()), _owner.Ref);
        early.Tell(new OfferReplica(0), TestActor);

        ExpectMsg<ReplicaNotHere>();
        early.Tell(GetReplicaStatistics.Instance, TestActor);
        Assert.Equal(1, ExpectMsg<ReplicaStatistics>().ChunksDropped);

        // Once the node's conntrack starts, the owner is asked for its seed again.
        early.Tell(new UseConntrackSettings(_settings));
        var resync = _owner.ExpectMsg<ReplicaResyncNeeded>();
        Assert.Equal((0, 1L), (resync.Shard, resync.Epoch));
    }

    /// <summary>Shard 0's part of many-conns.pcap: the first half of its frames, or the second (<paramref name="half"/> 1) run on <paramref name="table"/>.</summary>
    private ConnectionTable OwnerTable(int half)
    {
        var table = new ConnectionTable(_settings.ShardOptions());
        Run(table, half);
        return table;
    }

    private void Run(ConnectionTable table, int half)
    {
        var frames = CaptureInputs.Read("many-conns.pcap")
            .Where(f => f.Input.IsValid && ConntrackShards.ShardOf(f.Input.ShardHash, Shards) == 0)
            .ToList();
        // On a clock that starts with the capture, as the chunks' owner clocks (1 s, 2 s) do: a chunk's
        // expiry times must be on its clock (within the longest timeout of it).
        long start = frames[0].TimeMs;
        foreach (var (input, time) in half == 0 ? frames.Take(frames.Count / 2) : frames.Skip(frames.Count / 2))
        {
            table.Execute(in input, in Commit, time - start);
        }
    }

    private void Send(ReplicaChunk chunk) => _keeper.Tell(chunk, _owner.Ref);

    private ReplicaStatistics Statistics()
    {
        _keeper.Tell(GetReplicaStatistics.Instance, TestActor);
        return ExpectMsg<ReplicaStatistics>();
    }

    private static List<byte[]> SeedChunks(ConnectionTable table)
    {
        var chunks = new List<byte[]>();
        var seed = table.BeginReplicaSeed();
        while (seed.TryNextChunk(ReplicaLimits.ChunkBytes, out var chunk))
        {
            chunks.Add(chunk);
        }

        return chunks;
    }

    private static List<byte[]> Drain(ConnectionTable table)
    {
        var chunks = new List<byte[]>();
        table.DrainChanges(ReplicaLimits.ChunkBytes, chunks);
        return chunks;
    }

    private byte[] EmptySeed() => SeedChunks(new ConnectionTable(_settings.ShardOptions())).Single();

    private static List<string> Dump(ConnectionTable table) =>
        [.. table.Snapshot().Select(s => ConntrackFormatter.FormatEntry(s)).Order(StringComparer.Ordinal)];
}
