using Actors.Cluster;
using Actors.Conntrack;
using Actors.Conntrack.Handoff;
using Actors.Tests.Support;
using Akka.Actor;
using Akka.TestKit;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Tests.Support;
using Host.Configuration;

namespace Actors.Tests.Cluster;

/// <summary>
/// Conntrack shards that move between two nodes (two actor systems in one cluster over 127.0.0.1,
/// every message serialized) take their tables with them: node B joins a cluster whose region already
/// runs and shards rebalance to it, then B leaves gracefully and its shards come back. The table
/// dumped through the region is the same before and after each move, and the rest of the traffic gets
/// the answers one table gives.
/// </summary>
public sealed class ShardHandoffTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const int Shards = 4;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(3);
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true, Mark = 5, MarkMask = 0xff };
    private static readonly string[] Captures = ["tcp-http.pcap", "tcp-long.pcap", "udp-dns.pcap", "icmp.pcap", "many-conns.pcap", "ipv6.pcap"];

    private readonly ConntrackSettings _settings;
    private IActorRef _regionA = ActorRefs.Nobody;
    private DatapathCluster? _nodeB;
    private long _batch;

    public ShardHandoffTests()
        : base(TestConfigs.TwoNodes($"""
            datapath.conntrack.shards = {Shards}
            akka.cluster.sharding.rebalance-interval = 500ms
            # Dumps list connections whose time is up until a sweep removes them: no sweep between the dumps compared.
            datapath.conntrack.sweep-interval = 1h
            """))
    {
        _settings = DatapathSettings.From(Sys.Settings.Config, "test").Conntrack;
    }

    public async Task InitializeAsync()
    {
        await ClusterOfOne.JoinSelfAsync(Sys, Patience);
        _regionA = await ConntrackSharding.StartAsync(Sys, _settings);
    }

    public async Task DisposeAsync()
    {
        if (_nodeB is not null)
        {
            await _nodeB.ShutdownAsync().WaitAsync(Patience);
        }
    }

    [Fact]
    public async Task Shards_moving_to_a_joining_node_and_back_when_it_leaves_keep_every_connection()
    {
        var frames = Captures.SelectMany(c => CaptureInputs.Read(c).Select((f, i) => (Capture: c, f.Input, f.TimeMs, Index: i))).ToList();
        var reference = new ConnectionTable(Defaults.ConntrackOptions);
        var expected = frames.Select(f => reference.Execute(f.Input, in Commit, f.TimeMs)).ToList();
        var firstThird = frames.Count / 3;

        // Node A alone owns every shard.
        var answers = Track(_regionA, Sys, frames.Take(firstThird));
        var before = Dump(_regionA, Sys);
        Assert.NotEmpty(before);
        Assert.All(Enumerable.Range(0, Shards), shard => Assert.Equal(Home(_regionA, shard, Sys), SelfAddress(Sys)));

        // B joins the running cluster: some shards move to it, with their tables.
        _nodeB = await DatapathCluster.StartAsync(Sys.Settings.Config, _settings, Sys.Name, [SelfAddress(Sys)], Patience);
        // Akka drops requests that wait in the old owner's region when the hand-off starts: poll with a short patience.
        await AwaitAssertAsync(() => Assert.Equal(Shards / 2, Enumerable.Range(0, Shards).Count(shard => Home(_regionA, shard, Sys, Poll) == _nodeB.Address)), Patience, TimeSpan.FromMilliseconds(200));
        Assert.Equal(before, Dump(_regionA, Sys));
        Assert.Equal(before, Dump(_nodeB.Conntrack, _nodeB.System));
        var statsB = Statistics(_nodeB.System);
        Assert.True(statsB.HandoffsIn >= 1);
        Assert.True(statsB.ConnectionsIn >= 1);
        Assert.Equal(0, statsB.ChunksRejected);
        Assert.Equal(statsB.ConnectionsIn, Statistics(Sys).ConnectionsOut);

        // Either node says where the shards are (show, metrics): B's half and A's half, B's table arrivals.
        foreach (var (system, region) in new[] { (Sys, _regionA), (_nodeB.System, _nodeB.Conntrack) })
        {
            var placement = await ConntrackPlacement.GatherAsync(system, region, Shards, Patience);
            Assert.True(placement.OwnersAnswered);
            Assert.Equal(new[] { SelfAddress(Sys).ToString(), _nodeB.Address.ToString() }.Order(StringComparer.Ordinal), placement.Nodes.Select(n => n.Node).Order(StringComparer.Ordinal));
            var onB = placement.Nodes.Single(n => n.Node == _nodeB.Address.ToString());
            Assert.Equal(Enumerable.Range(0, Shards).Where(shard => Home(_regionA, shard, Sys) == _nodeB.Address), onB.Shards);
            Assert.Equal(Enumerable.Range(0, Shards), placement.Nodes.SelectMany(n => n.Shards).Order());
            Assert.Equal(statsB.ConnectionsIn, onB.Handoffs!.ConnectionsIn);
            Assert.Equal(system == Sys ? SelfAddress(Sys).ToString() : _nodeB.Address.ToString(), placement.Nodes.Single(n => n.Self).Node);
        }

        // Traffic goes on from both nodes: the same answers as one table.
        int secondThird = 2 * frames.Count / 3;
        answers.AddRange(Track(_nodeB.Conntrack, _nodeB.System, frames.Skip(firstThird).Take(secondThird - firstThird)));
        var middle = Dump(_regionA, Sys);

        // Each node keeps a complete replica of every shard the other owns, fed by that owner (show, metrics).
        await AwaitAssertAsync(
            async () =>
            {
                var placement = await ConntrackPlacement.GatherAsync(Sys, _regionA, Shards, Poll);
                foreach (var node in placement.Nodes)
                {
                    var other = placement.Nodes.Single(n => n.Node != node.Node);
                    var replicas = Assert.IsType<Actors.Conntrack.Replica.ReplicaStatistics>(node.Replicas);
                    Assert.Equal(other.Shards, replicas.Replicas.Select(r => r.Shard).Order());
                    Assert.All(replicas.Replicas, r => Assert.True(r.Complete && r.Source == other.Node && r.LagMs >= 0, $"shard {r.Shard} on {node.Node}: {r}"));
                }
            },
            Patience,
            TimeSpan.FromMilliseconds(200));

        // B leaves gracefully: its shards come back to A with their tables.
        int movedBack = Enumerable.Range(0, Shards).Count(shard => Home(_regionA, shard, Sys) == _nodeB.Address);
        Assert.True(movedBack >= 1);
        long inBefore = Statistics(Sys).ConnectionsIn;
        await _nodeB.ShutdownAsync().WaitAsync(Patience);
        _nodeB = null;
        Assert.Equal(middle, Dump(_regionA, Sys));
        Assert.All(Enumerable.Range(0, Shards), shard => Assert.Equal(Home(_regionA, shard, Sys), SelfAddress(Sys)));
        Assert.True(Statistics(Sys).ConnectionsIn > inBefore);
        await AwaitAssertAsync(
            async () => Assert.Equal(Enumerable.Range(0, Shards), Assert.Single((await ConntrackPlacement.GatherAsync(Sys, _regionA, Shards, Poll)).Nodes).Shards),
            Patience,
            TimeSpan.FromMilliseconds(200));

        answers.AddRange(Track(_regionA, Sys, frames.Skip(secondThird)));
        Assert.Equal(expected.Count, answers.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].Equals(answers[i]), $"{frames[i].Capture} frame {frames[i].Index + 1}: {answers[i].State} where one table says {expected[i].State}");
        }
    }

    [Fact]
    public async Task A_node_with_another_shard_count_is_refused_by_name_and_leaves()
    {
        var config = Akka.Configuration.ConfigurationFactory.ParseString($"datapath.conntrack.shards = {2 * Shards}").WithFallback(Sys.Settings.Config);
        var settings = DatapathSettings.From(config, "test").Conntrack;

        var refused = await Assert.ThrowsAsync<ClusterIncompatibleException>(() => DatapathCluster.StartAsync(config, settings, Sys.Name, [SelfAddress(Sys)], Patience));

        Assert.Contains($"datapath.conntrack.shards = {2 * Shards} here but {Shards} on {SelfAddress(Sys)}", refused.Message, StringComparison.Ordinal);
        await AwaitAssertAsync(() => Assert.Single(Akka.Cluster.Cluster.Get(Sys).State.Members), Patience, TimeSpan.FromMilliseconds(200));
        Assert.All(Enumerable.Range(0, Shards), shard => Assert.Equal(SelfAddress(Sys), Home(_regionA, shard, Sys)));
    }

    /// <summary>Tracks frames in order, one message per frame, through <paramref name="region"/> (of <paramref name="system"/>: a probe answers from its own node).</summary>
    private List<ConntrackResult> Track(IActorRef region, ActorSystem system, IEnumerable<(string Capture, ConntrackInput Input, long TimeMs, int Index)> frames)
    {
        var probe = CreateTestProbe(system);
        var results = new List<ConntrackResult>();
        foreach (var frame in frames)
        {
            int shard = ConntrackShards.ShardOf(frame.Input.ShardHash, Shards);
            long batch = ++_batch;
            region.Tell(new TrackConnections(shard, batch, frame.TimeMs, Commit, [frame.Input]), probe.Ref);
            var reply = probe.ExpectMsg<ConnectionsTracked>(Patience);
            Assert.Equal(batch, reply.BatchId);
            results.Add(reply.Results[0]);
        }

        return results;
    }

    /// <summary>Every shard's connections as dump-conntrack lines, sorted (a table's slot order is its own).</summary>
    private List<string> Dump(IActorRef region, ActorSystem system)
    {
        var probe = CreateTestProbe(system);
        var lines = new List<string>();
        for (int shard = 0; shard < Shards; shard++)
        {
            region.Tell(new ConntrackEnvelope(shard, new DumpConnections(null)), probe.Ref);
            lines.AddRange(probe.ExpectMsg<ConnectionsDumped>(Patience).Lines);
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>The node whose entity answers for <paramref name="shard"/>.</summary>
    private Address Home(IActorRef region, int shard, ActorSystem viewer, TimeSpan? patience = null)
    {
        var probe = CreateTestProbe(viewer);
        region.Tell(new ConntrackEnvelope(shard, GetShardStatistics.Instance), probe.Ref);
        probe.ExpectMsg<ShardStatistics>(patience ?? Patience);
        var address = probe.LastSender.Path.Address;
        return address.HasLocalScope ? SelfAddress(viewer) : address;
    }

    private HandoffStatistics Statistics(ActorSystem system)
    {
        var probe = CreateTestProbe(system);
        ShardHandoff.Get(system).Keeper.Tell(GetHandoffStatistics.Instance, probe.Ref);
        return probe.ExpectMsg<HandoffStatistics>(Patience);
    }

    private static Address SelfAddress(ActorSystem system) => Akka.Cluster.Cluster.Get(system).SelfAddress;
}
