using System.Diagnostics;
using System.Text;
using Actors.Cluster;
using Actors.Conntrack;
using Actors.Conntrack.Replica;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Host.Commands;
using Host.Configuration;
using Host.Tests.Support;
using TestSupport.Frames;
using TestSupport.Waiting;
using Xunit.Abstractions;

namespace Host.Tests.Cluster;

/// <summary>
/// A datapath of two real OS processes loses one to kill -9 and gets it back. This test process is
/// node A (a conntrack region, no PMDs); node B is `ovs-actors replay-node`, a second process whose
/// PMDs host its shards. TCP connections are opened through A's region on the shards B owns; B is
/// killed with SIGKILL; once A has downed it (split-brain resolver, short timeouts: this test's
/// configuration only), B's shards restart on A from the replicas A kept, and the later packets of
/// those connections get the verdicts of one table fed the same packets. Only connections changed
/// within the replication interval before the kill may differ: the test opens some right before the
/// kill, counts the packets that differ and asserts that they are all theirs. Then B starts again,
/// takes its shards back with their tables (and a replica of A's), and the rest of the traffic
/// matches too.
/// </summary>
[Collection(NodeLossCollection.Name)]
public sealed class NodeLossTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Shards = 8;
    private const int Connections = 160;
    private const int OpenedBeforeKill = 24;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>How long one look at the shards or the replicas may take on a loaded machine (a look that times out would end the wait it is part of).</summary>
    private static readonly TimeSpan LookTimeout = TimeSpan.FromSeconds(10);
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true, Mark = 1, MarkMask = 0xff };

    private readonly ScratchDirectory _scratch = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly StringBuilder _nodeBLog = new();
    private readonly StringBuilder _nodeALog = new();
    private DatapathCluster? _nodeA;
    private Process? _nodeB;
    private string _configFile = "";
    private long _batch;

    public async Task InitializeAsync()
    {
        _configFile = _scratch.Write("node-loss.conf", $"""
            datapath.conntrack.shards = {Shards}
            datapath.conntrack.replication = 100ms
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp.hostname = "127.0.0.1"
            akka.remote.dot-netty.tcp.port = 0
            # Both nodes one version: Akka never rebalances while members run different versions
            # (a rolling update), and this test process is not ovs-actors.
            akka.cluster.app-version = "1.0.0"
            # A killed node is unreachable within a few seconds and downed a second later: the
            # oldest node (A) keeps the cluster, even alone. Production keeps Akka's defaults. The
            # pause allows 3 s: a loaded machine (the other test projects run beside this one)
            # can stall a live node for a second, and B downed before the kill fails the test.
            akka.cluster.failure-detector.heartbeat-interval = 200ms
            akka.cluster.failure-detector.acceptable-heartbeat-pause = 3s
            akka.cluster.split-brain-resolver.active-strategy = keep-oldest
            akka.cluster.split-brain-resolver.stable-after = 1s
            akka.cluster.split-brain-resolver.keep-oldest.down-if-alone = off
            """);
        var config = DatapathConfig.Load(_configFile);
        var settings = DatapathSettings.From(config);
        _nodeA = await DatapathCluster.StartAsync(TwoNodeReplay.NodeConfig(config), settings.Conntrack);
        // Node A's warnings and errors (moves of shards, claims, downing), for a failure's report.
        var collector = _nodeA.System.ActorOf(Props.Create(() => new LogCollector(_nodeALog, _clock)));
        _nodeA.System.EventStream.Subscribe(collector, typeof(Akka.Event.Warning));
        _nodeA.System.EventStream.Subscribe(collector, typeof(Akka.Event.Error));
    }

    public async Task DisposeAsync()
    {
        output.WriteLine("node A's warnings:\n" + Read(_nodeALog));
        output.WriteLine("node B's log:\n" + Read(_nodeBLog));
        StopNodeB();
        if (_nodeA is not null)
        {
            await _nodeA.ShutdownAsync().WaitAsync(Patience);
        }

        _scratch.Dispose();
    }

    [Fact]
    public async Task Connections_of_a_node_killed_with_sigkill_go_on_from_their_replicas_with_the_single_node_verdicts()
    {
        var nodeA = _nodeA!;
        var region = nodeA.Conntrack;
        var reference = new ConnectionTable(nodeA.ConntrackSettings.SingleTableOptions());
        var nodeB = await StartNodeBAsync();
        var ownedByB = await ShardsOfAsync(nodeB);
        Log($"node B {nodeB} up, owns shards {string.Join(",", ownedByB)}");

        // Connections on B's shards, opened through A's region and established.
        var all = Enumerable.Range(0, 4096).Select(i => new Connection(i)).Where(c => ownedByB.Contains(c.Shard)).ToList();
        var old = all.Take(Connections).ToList();
        var late = all.Skip(Connections).Take(OpenedBeforeKill).ToList();
        Assert.Equal(OpenedBeforeKill, late.Count);
        var differ = new Dictionary<int, int>();
        await StepAsync(region, reference, old, c => c.Syn, differ);
        await StepAsync(region, reference, old, c => c.SynAck, differ);
        await StepAsync(region, reference, old, c => c.Ack, differ);
        Assert.Empty(differ);

        // Every one of them is in A's replicas of B's shards.
        var expected = old.GroupBy(c => c.Shard).ToDictionary(g => g.Key, g => g.Count());
        await Eventually.Until(
            () => ReplicasAsync(nodeA.System, nodeA.Address),
            stats => expected.All(e => stats.Replicas.Any(r => r.Shard == e.Key && r.Complete && r.Connections == e.Value)),
            "A's replicas of B's shards hold every established connection",
            Patience);

        // More connections opened, then B is killed at once: these changed within the last interval.
        await StepAsync(region, reference, late, c => c.Syn, differ);
        await StepAsync(region, reference, late, c => c.SynAck, differ);
        await StepAsync(region, reference, late, c => c.Ack, differ);
        Assert.Empty(differ);
        _nodeB!.Kill();
        Log("node B killed (SIGKILL)");
        var cluster = Akka.Cluster.Cluster.Get(nodeA.System);
        await Eventually.Until(() => cluster.State.Members.Count == 1, "node B downed and removed", Patience);
        Log("node B removed from the cluster");

        // Later packets of every connection: B's shards start on A from their replicas. A's region may
        // learn that B's region is gone a moment after the cluster's state says B was removed: a batch
        // it sent to B meanwhile is lost, as it would be on a wire, and is sent again (a batch that a
        // shard holds and never answers is not: it times out again). 15 s: longer than a new shard may
        // wait for a keeper's answer before it takes its replica.
        var everyone = old.Concat(late).ToList();
        await StepAsync(region, reference, everyone, c => c.Data(0), differ, resendAfter: TimeSpan.FromSeconds(15));
        await StepAsync(region, reference, everyone, c => c.DataAck(0), differ);
        var promoted = await ReplicasAsync(nodeA.System, nodeA.Address);
        Log($"after the kill: {promoted.Promotions} shards started from replicas ({promoted.ConnectionsPromoted} connections); " +
            $"{differ.Values.Sum()} packets of {differ.Count} connections differ from one table, all among the {late.Count} opened within the interval before the kill");
        Assert.Equal(ownedByB.Count, promoted.Promotions);
        Assert.InRange(promoted.ConnectionsPromoted, old.Count, everyone.Count);
        Assert.All(differ.Keys, id => Assert.Contains(late, c => c.Id == id));

        // B comes back: it takes shards back with their tables, and the traffic goes on as on one table.
        var lostEarlier = differ.Keys.ToHashSet();
        differ.Clear();
        var nodeB2 = await StartNodeBAsync();
        var ownedByB2 = await ShardsOfAsync(nodeB2);
        Log($"node B started again as {nodeB2}, owns shards {string.Join(",", ownedByB2)}");
        await Eventually.Until(
            () => ReplicasAsync(nodeA.System, nodeB2),
            stats => stats.Replicas.Length == Shards - ownedByB2.Count && stats.Replicas.All(r => r.Complete),
            "the new node B holds a replica of each of A's shards",
            Patience);
        await StepAsync(region, reference, everyone, c => c.Data(1), differ);
        await StepAsync(region, reference, everyone, c => c.DataAck(1), differ);
        await StepAsync(region, reference, everyone, c => c.Fin, differ);
        Log($"after B's return: {differ.Values.Sum()} packets differ, of connections {string.Join(",", differ.Keys.Order())}");
        Assert.All(differ.Keys, id => Assert.Contains(id, lostEarlier));
    }

    /// <summary>
    /// One packet of each connection, in one batch per shard, through <paramref name="region"/>; the
    /// verdicts that differ from <paramref name="reference"/> are counted per connection. With
    /// <paramref name="resendAfter"/>, a batch unanswered that long is sent again, within the test's patience.
    /// </summary>
    private async Task StepAsync(IActorRef region, ConnectionTable reference, List<Connection> connections, Func<Connection, ConntrackInput> packet, Dictionary<int, int> differ, TimeSpan? resendAfter = null)
    {
        long now = 1_000_000 + _clock.ElapsedMilliseconds;
        var asks = connections.GroupBy(c => c.Shard).Select(async group =>
        {
            var members = group.ToList();
            var inputs = members.Select(packet).ToArray();
            var answer = await AskAsync(() => new TrackConnections(group.Key, Interlocked.Increment(ref _batch), now, Commit, inputs));
            return (members, inputs, answer.Results);
        });
        foreach (var (members, inputs, results) in await Task.WhenAll(asks))
        {
            for (int i = 0; i < members.Count; i++)
            {
                var expected = reference.Execute(in inputs[i], in Commit, now);
                if (!expected.Equals(results[i]))
                {
                    differ[members[i].Id] = differ.GetValueOrDefault(members[i].Id) + 1;
                }
            }
        }

        async Task<ConnectionsTracked> AskAsync(Func<TrackConnections> batch)
        {
            var deadline = _clock.Elapsed + Patience;
            while (true)
            {
                var message = batch();
                var limit = resendAfter is { } after && _clock.Elapsed + after < deadline ? after : deadline - _clock.Elapsed;
                try
                {
                    return await region.Ask<ConnectionsTracked>(message, limit);
                }
                catch (AskTimeoutException) when (_clock.Elapsed < deadline)
                {
                    Log($"shard {message.Shard}: batch {message.BatchId} unanswered after {limit.TotalSeconds:F0} s, sent again");
                }
            }
        }
    }

    private async Task<Address> StartNodeBAsync()
    {
        var cluster = Akka.Cluster.Cluster.Get(_nodeA!.System);
        var before = cluster.State.Members.Select(m => m.Address).ToHashSet();
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "ovs-actors.dll"), ReplayNodeCommand.Name, "--seed", _nodeA.Address.ToString(), "--config", _configFile, "--pmds", "2" })
        {
            start.ArgumentList.Add(arg);
        }

        _nodeB = Process.Start(start)!;
        _nodeB.OutputDataReceived += (_, _) => { };
        _nodeB.ErrorDataReceived += (_, e) =>
        {
            lock (_nodeBLog)
            {
                _nodeBLog.AppendLine(e.Data);
            }
        };
        _nodeB.BeginOutputReadLine();
        _nodeB.BeginErrorReadLine();
        var member = await Eventually.Until(
            () => Task.FromResult(cluster.State.Members.FirstOrDefault(m => m.Status == Akka.Cluster.MemberStatus.Up && !before.Contains(m.Address))),
            m => m is not null || _nodeB.HasExited,
            "node B joins",
            Patience);
        Assert.False(_nodeB.HasExited, "node B exited: " + Read(_nodeBLog));
        return member!.Address;
    }

    /// <summary>Waits until <paramref name="node"/> owns half the shards (the rebalance after its join is over) and returns them.</summary>
    private async Task<HashSet<int>> ShardsOfAsync(Address node) =>
        await Eventually.Until(
            async () =>
            {
                var stats = await _nodeA!.Conntrack.Ask<ClusterShardingStats>(new GetClusterShardingStats(LookTimeout), LookTimeout * 2);
                return stats.Regions.TryGetValue(node, out var region)
                    ? region.Stats.Keys.Select(ConntrackMessageExtractor.ShardOfEntity).ToHashSet()
                    : [];
            },
            owned => owned.Count == Shards / 2,
            "node B owns half the shards",
            Patience);

    private static Task<ReplicaStatistics> ReplicasAsync(ActorSystem system, Address node) =>
        ShardReplicas.KeeperAt(system, node).Ask<ReplicaStatistics>(GetReplicaStatistics.Instance, LookTimeout * 2);

    private void StopNodeB()
    {
        if (_nodeB is { HasExited: false })
        {
            _nodeB.Kill();
        }

        _nodeB?.Dispose();
        _nodeB = null;
    }

    /// <summary>A log as written so far (its writers append under its lock).</summary>
    private static string Read(StringBuilder log)
    {
        lock (log)
        {
            return log.ToString();
        }
    }

    private void Log(string line) => output.WriteLine($"{_clock.Elapsed.TotalSeconds,6:F1} s  {line}");

    /// <summary>A TCP connection from 10.1.x.y:port to 10.2.0.1:80, its packets in order.</summary>
    private sealed class Connection
    {
        private const uint ClientIsn = 1000;
        private const uint ServerIsn = 5000;
        private readonly string _client;
        private readonly ushort _port;

        public Connection(int id)
        {
            Id = id;
            _client = $"10.1.{id >> 8}.{id & 0xff}";
            _port = (ushort)(20000 + id);
            Syn = Parse(Frame.Ip(_client, "10.2.0.1").Tcp(_port, 80, TcpFlags.Syn, ClientIsn).Build());
            Shard = ConntrackShards.ShardOf(Syn.ShardHash, Shards);
            SynAck = Parse(Frame.Ip("10.2.0.1", _client).Tcp(80, _port, TcpFlags.Syn | TcpFlags.Ack, ServerIsn, ClientIsn + 1).Build());
            Ack = Parse(Frame.Ip(_client, "10.2.0.1").Tcp(_port, 80, TcpFlags.Ack, ClientIsn + 1, ServerIsn + 1).Build());
            Fin = Parse(Frame.Ip(_client, "10.2.0.1").Tcp(_port, 80, TcpFlags.Fin | TcpFlags.Ack, ClientIsn + 21, ServerIsn + 1).Build());
        }

        public int Id { get; }

        public int Shard { get; }

        public ConntrackInput Syn { get; }

        public ConntrackInput SynAck { get; }

        public ConntrackInput Ack { get; }

        public ConntrackInput Fin { get; }

        /// <summary>The client's <paramref name="n"/>th 10-byte segment.</summary>
        public ConntrackInput Data(int n) =>
            Parse(Frame.Ip(_client, "10.2.0.1").Tcp(_port, 80, TcpFlags.Psh | TcpFlags.Ack, ClientIsn + 1 + (uint)(10 * n), ServerIsn + 1).Payload(10).Build());

        /// <summary>The server's acknowledgement of that segment.</summary>
        public ConntrackInput DataAck(int n) =>
            Parse(Frame.Ip("10.2.0.1", _client).Tcp(80, _port, TcpFlags.Ack, ServerIsn + 1, ClientIsn + 11 + (uint)(10 * n)).Build());

        private static ConntrackInput Parse(byte[] frame)
        {
            var packet = new Packet();
            packet.SetFrame(frame, 1);
            var key = default(FlowKey);
            FlowExtractor.Extract(packet, ref key, new ExtractionStats());
            Assert.True(ConntrackInput.TryParse(packet, in key, 0, out var input));
            return input;
        }
    }
}

/// <summary>Keeps the log events it is sent, stamped with the test's clock.</summary>
internal sealed class LogCollector : ReceiveActor
{
    public LogCollector(StringBuilder log, Stopwatch clock) =>
        Receive<Akka.Event.LogEvent>(e =>
        {
            lock (log)
            {
                log.AppendLine($"{clock.Elapsed.TotalSeconds,6:F1} s  {e.LogLevel()} {e.LogSource}: {FirstLine(e.Message)}");
            }
        });

    private static string? FirstLine(object? message) => message?.ToString()?.Split('\n', 2)[0];
}

/// <summary>
/// The node-loss test runs alone, after the parallel ones: its timings (a failure detector of a
/// few seconds, the downing, the shards starting from replicas) once ran past a minute while the lab and
/// two-process replay tests shared the two cores with it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NodeLossCollection
{
    public const string Name = "node loss";
}
