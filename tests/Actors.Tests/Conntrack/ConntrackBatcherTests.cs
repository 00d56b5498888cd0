using Actors.Conntrack;
using Actors.Tests.Support;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Packets;
using Datapath.Tests.Support;

namespace Actors.Tests.Conntrack;

/// <summary>The PMD-side batcher, without an actor system: split by shard, merge back in arrival order.</summary>
public sealed class ConntrackBatcherTests
{
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true };

    [Fact]
    public void A_batch_becomes_one_message_per_shard_it_touches_in_arrival_order_within_each()
    {
        var inputs = ManyConnectionInputs(32);
        var batcher = new ConntrackBatcher(4);
        var messages = new List<TrackConnections>();

        int n = batcher.Split(inputs, in Commit, 1234, 9, messages);

        Assert.Equal(n, messages.Count);
        Assert.Equal(messages.Count, messages.Select(m => m.Shard).Distinct().Count());
        Assert.True(n > 1, "32 connections should spread over more than one of 4 shards");
        Assert.Equal(inputs.Length, messages.Sum(m => m.Inputs.Length));
        foreach (var message in messages)
        {
            Assert.Equal((9L, 1234L, Commit), (message.BatchId, message.NowMs, message.Args));
            var expected = inputs.Where(i => ConntrackShards.ShardOf(i.ShardHash, 4) == message.Shard).ToArray();
            Assert.Equal(expected, message.Inputs);
        }
    }

    [Fact]
    public void Replies_merged_in_any_order_give_the_results_of_running_the_batch_on_one_table()
    {
        var inputs = CaptureInputs.Read("many-conns.pcap").Take(96).Select(x => x.Input).ToArray();
        var direct = new ConntrackResult[inputs.Length];
        new ConnectionTable(Defaults.ConntrackOptions).Execute(inputs, in Commit, 0, direct);

        var shards = Enumerable.Range(0, 3).Select(_ => new ConnectionTable(Defaults.ConntrackOptions)).ToArray();
        var batcher = new ConntrackBatcher(3);
        var merged = new List<ConntrackResult>();
        for (int start = 0; start < inputs.Length; start += 32)
        {
            var messages = new List<TrackConnections>();
            batcher.Split(inputs.AsSpan(start, 32), in Commit, 0, start, messages);
            messages.Reverse();
            for (int m = 0; m < messages.Count; m++)
            {
                var results = new ConntrackResult[messages[m].Inputs.Length];
                shards[messages[m].Shard].Execute(messages[m].Inputs, in Commit, 0, results);
                Assert.False(batcher.IsComplete);
                bool done = batcher.Merge(new ConnectionsTracked(messages[m].Shard, start, results));
                Assert.Equal(m == messages.Count - 1, done);
            }

            Assert.True(batcher.IsComplete);
            merged.AddRange(batcher.Results.ToArray());
        }

        Assert.Equal(direct.Select(r => r.State), merged.Select(r => r.State));
        Assert.Equal(direct.Select(r => r.OriginalTuple), merged.Select(r => r.OriginalTuple));
    }

    [Fact]
    public void Both_directions_of_a_connection_map_to_one_shard()
    {
        // tcp-http frames 3 and 4: the SYN from 10.0.0.1 and the SYN-ACK from 10.0.0.2.
        var handshake = CaptureInputs.Frames("tcp-http.pcap", 3, 2);

        Assert.Equal(handshake[0].Key.Reverse(), handshake[1].Key);
        foreach (int shards in new[] { 2, 3, 16, 1000 })
        {
            Assert.Equal(ConntrackShards.ShardOf(handshake[0].ShardHash, shards), ConntrackShards.ShardOf(handshake[1].ShardHash, shards));
        }
    }

    [Fact]
    public void Different_connections_spread_over_all_shards()
    {
        var inputs = ManyConnectionInputs(200);
        var perShard = new int[16];
        foreach (var input in inputs)
        {
            perShard[ConntrackShards.ShardOf(input.ShardHash, 16)]++;
        }

        // 200 connections over 16 shards: about 12.5 each; none empty, none with a third of them.
        Assert.All(perShard, n => Assert.InRange(n, 1, 200 / 3));
    }

    [Fact]
    public void A_reply_for_another_batch_or_a_repeated_reply_is_refused()
    {
        var inputs = ManyConnectionInputs(8);
        var batcher = new ConntrackBatcher(2);
        var messages = new List<TrackConnections>();
        batcher.Split(inputs, in Commit, 0, 5, messages);
        var first = messages[0];
        var results = new ConntrackResult[first.Inputs.Length];

        Assert.Throws<ArgumentException>(() => batcher.Merge(new ConnectionsTracked(first.Shard, 6, results)));
        batcher.Merge(new ConnectionsTracked(first.Shard, 5, results));
        Assert.Throws<ArgumentException>(() => batcher.Merge(new ConnectionsTracked(first.Shard, 5, results)));
    }

    [Fact]
    public void An_empty_batch_sends_nothing_and_is_complete()
    {
        var batcher = new ConntrackBatcher(4);
        var messages = new List<TrackConnections>();

        Assert.Equal(0, batcher.Split([], in Commit, 0, 1, messages));
        Assert.Empty(messages);
        Assert.True(batcher.IsComplete);
        Assert.Equal(0, batcher.Results.Length);
    }

    [Fact]
    public void A_reused_batcher_forgets_the_previous_batch()
    {
        var inputs = ManyConnectionInputs(32);
        var batcher = new ConntrackBatcher(4);
        var first = new List<TrackConnections>();
        batcher.Split(inputs, in Commit, 0, 1, first);
        var second = new List<TrackConnections>();

        batcher.Split(inputs.AsSpan(0, 3), in Commit, 0, 2, second);

        Assert.Equal(3, second.Sum(m => m.Inputs.Length));
        Assert.Equal(second.Count, batcher.Pending);
        foreach (var message in second)
        {
            var results = new ConntrackResult[message.Inputs.Length];
            Array.Fill(results, new ConntrackResult { State = CtState.New });
            batcher.Merge(new ConnectionsTracked(message.Shard, 2, results));
        }

        Assert.True(batcher.IsComplete);
        Assert.Equal(3, batcher.Results.Length);
    }

    /// <summary>The SYN of each distinct connection in many-conns.pcap.</summary>
    private static ConntrackInput[] ManyConnectionInputs(int count) =>
        CaptureInputs.Read("many-conns.pcap")
            .Select(x => x.Input)
            .Where(i => i.IsValid)
            .DistinctBy(i => i.ShardHash)
            .Take(count)
            .ToArray();
}
