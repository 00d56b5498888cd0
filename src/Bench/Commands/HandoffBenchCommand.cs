using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Actors.Cluster;
using Actors.Conntrack;
using Actors.Conntrack.Handoff;
using Akka.Actor;
using Bench.CtBench;
using Bench.Nodes;
using Datapath.Conntrack;
using Host.Configuration;

namespace Bench.Commands;

/// <summary>
/// `handoff-bench [--connections N] [--shards S]`: what moving a conntrack shard's table between two
/// processes costs. Node A (this process) forms a cluster alone and fills every shard with N UDP
/// connections; node B (a second process, `bench-node`) joins, and the rebalance moves shards to it,
/// each with its table (join); then B leaves and its shards come back (leave). For each direction: the
/// tables' connections and chunk bytes, the time from the new owner's claim to the whole table taken,
/// both processes' peak resident memory above where it stood before and the bytes they allocated, and
/// for the join the bytes the TCP connections between the two processes carried (`ss`).
/// </summary>
internal static class HandoffBenchCommand
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(10);

    public static Command Create()
    {
        var connections = new Option<int>("--connections") { Description = "UDP connections in each shard's table.", DefaultValueFactory = _ => 1_000_000 };
        var shards = new Option<int>("--shards") { Description = "Conntrack shards (half of them move to node B).", DefaultValueFactory = _ => 2 };
        var command = new Command("handoff-bench", "Measure a conntrack shard's table moving between two processes: time, peak memory, bytes on the wire.") { connections, shards };
        command.SetAction(async (parse, _) => await RunAsync(parse.GetValue(connections), parse.GetValue(shards), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error).ConfigureAwait(false));
        return command;
    }

    private static async Task<int> RunAsync(int connections, int shards, TextWriter output, TextWriter error)
    {
        if (connections < 1 || shards < 2 || (long)connections * shards > 50_000_000)
        {
            error.WriteLine("handoff-bench: --connections must be positive, --shards 2 or more, and their product at most 50,000,000");
            return 2;
        }

        try
        {
            return await Task.Run(() => MeasureAsync(connections, shards, output)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or AskTimeoutException)
        {
            error.WriteLine("handoff-bench: " + e.Message);
            return 1;
        }
    }

    private static async Task<int> MeasureAsync(int connections, int shards, TextWriter output)
    {
        var memory = new ProcessMemory();
        var config = BenchNodes.Config(shards, hostsShards: true);
        var settings = DatapathSettings.From(config).Conntrack;
        var nodeA = await DatapathCluster.StartAsync(config.Config, settings, upTimeout: TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        try
        {
            var fill = Stopwatch.StartNew();
            await FillAsync(nodeA, connections, shards).ConfigureAwait(false);
            long filled = await CountAsync(nodeA, shards).ConfigureAwait(false);
            output.WriteLine(string.Create(C, $"handoff-bench: {shards} shards x {connections} UDP connections on node A ({filled} in the tables, filled in {fill.Elapsed.TotalSeconds:F1} s), {Environment.ProcessorCount} cores"));

            // Join: B starts, the rebalance moves half the shards to it with their tables.
            GC.Collect();
            memory.Mark();
            var before = memory.Read();
            var (process, addressB) = await BenchNodes.StartNodeBAsync(shards, nodeA.Address, TimeSpan.FromSeconds(90)).ConfigureAwait(false);
            using var nodeB = process;
            int portA = nodeA.Address.Port ?? 0;
            int portB = addressB.Port ?? 0;
            long? tcpBefore = TcpBytes.Between(portA, portB);
            var reportBefore = await BenchNodes.BenchActorAt(nodeA.System, addressB).Ask<BenchNodeReport>(GetBenchNodeReport.Instance, Patience).ConfigureAwait(false);
            var clock = Stopwatch.StartNew();
            var arrived = await WhenArrivedAsync(nodeA.System, addressB, shards / 2).ConfigureAwait(false);
            var elapsed = clock.Elapsed;
            long? tcpAfter = TcpBytes.Between(portA, portB);
            var reportB = await BenchNodes.BenchActorAt(nodeA.System, addressB).Ask<BenchNodeReport>(GetBenchNodeReport.Instance, Patience).ConfigureAwait(false);
            var afterA = memory.Read();
            Report(output, "join (A -> B)", arrived, elapsed, tcpAfter - tcpBefore, ("A (sends)", before, afterA), ("B (takes)", reportBefore, reportB));

            // Leave: B hands its shards back to A before it goes.
            var statsA = await KeeperStatisticsAsync(nodeA.System, nodeA.Address).ConfigureAwait(false);
            GC.Collect();
            memory.Mark();
            before = memory.Read();
            clock.Restart();
            var stopping = BenchNodes.StopNodeBAsync(nodeB, Patience);
            var back = await WhenArrivedAsync(nodeA.System, nodeA.Address, statsA.HandoffsIn + (shards / 2), statsA).ConfigureAwait(false);
            elapsed = clock.Elapsed;
            Report(output, "leave (B -> A)", back, elapsed, null, ("A (takes)", before, memory.Read()));
            await stopping.ConfigureAwait(false);
            return 0;
        }
        finally
        {
            await nodeA.ShutdownAsync().ConfigureAwait(false);
        }
    }

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Commits <paramref name="connections"/> connections into every shard, one packet each, through the region.</summary>
    private static async Task FillAsync(DatapathCluster node, int connections, int shards)
    {
        var inputs = new ConntrackInput[connections * shards];
        var perShard = new int[shards];
        int filled = 0;
        for (uint i = 0; filled < inputs.Length; i++)
        {
            var input = default(ConntrackInput);
            input.Key.Src = 0x0A00_0000u | (i >> 8);
            input.Key.Dst = 0xC0A8_0001u;
            input.Key.SrcPort = (ushort)(1024 + (i & 0xFF));
            input.Key.DstPort = 53;
            input.Key.Protocol = 17;
            input.PayloadLength = 18;
            input.ShardHash = ConntrackInputParser.ShardHashOf(in input.Key);
            int shard = ConntrackShards.ShardOf(input.ShardHash, shards);
            if (perShard[shard] < connections)
            {
                perShard[shard]++;
                inputs[filled++] = input;
            }
        }

        const int Senders = 2;
        var done = new TaskCompletionSource<long>[Senders];
        int share = (inputs.Length + Senders - 1) / Senders;
        for (int s = 0; s < Senders; s++)
        {
            var part = inputs.AsSpan(Math.Min(s * share, inputs.Length), Math.Min(share, inputs.Length - Math.Min(s * share, inputs.Length))).ToArray();
            done[s] = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (part.Length == 0)
            {
                done[s].SetResult(0);
                continue;
            }

            var sender = node.System.ActorOf(CtBenchSender.Props(part, new ConntrackRoutes(node.Conntrack, shards, direct: false), 16, part.Length, done[s]));
            sender.Tell(CtBenchSender.Start.Instance);
        }

        await Task.WhenAll(done.Select(d => d.Task)).WaitAsync(Patience).ConfigureAwait(false);
    }

    private static async Task<long> CountAsync(DatapathCluster node, int shards)
    {
        var stats = await Task.WhenAll(Enumerable.Range(0, shards).Select(shard =>
            node.Conntrack.Ask<ShardStatistics>(new ConntrackEnvelope(shard, GetShardStatistics.Instance), Patience))).ConfigureAwait(false);
        return stats.Sum(s => (long)s.Connections);
    }

    private static Task<HandoffStatistics> KeeperStatisticsAsync(ActorSystem system, Address node) =>
        ShardHandoff.KeeperAt(system, node).Ask<HandoffStatistics>(GetHandoffStatistics.Instance, TimeSpan.FromSeconds(10));

    /// <summary>Waits until the keeper of <paramref name="node"/> counts <paramref name="handoffsIn"/> tables in; returns its counts less <paramref name="since"/>.</summary>
    private static async Task<HandoffStatistics> WhenArrivedAsync(ActorSystem system, Address node, int handoffsIn, HandoffStatistics? since = null)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var stats = await KeeperStatisticsAsync(system, node).ConfigureAwait(false);
            if (stats.HandoffsIn >= handoffsIn)
            {
                return since is null ? stats : stats with
                {
                    HandoffsIn = stats.HandoffsIn - since.HandoffsIn,
                    ConnectionsIn = stats.ConnectionsIn - since.ConnectionsIn,
                    BytesIn = stats.BytesIn - since.BytesIn,
                    ChunksRejected = stats.ChunksRejected - since.ChunksRejected,
                    ConnectionsLost = stats.ConnectionsLost - since.ConnectionsLost,
                    TransferMsIn = stats.TransferMsIn - since.TransferMsIn,
                };
            }

            if (deadline.Elapsed > Patience)
            {
                throw new TimeoutException($"{node} took {stats.HandoffsIn} of {handoffsIn} tables within {Patience}");
            }

            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    private static void Report(TextWriter output, string move, HandoffStatistics arrived, TimeSpan elapsed, long? tcpBytes, params (string Node, BenchNodeReport Before, BenchNodeReport After)[] nodes)
    {
        double mib = 1024 * 1024;
        output.WriteLine(string.Create(C, $"{move}: {arrived.HandoffsIn} tables, {arrived.ConnectionsIn} connections, {arrived.BytesIn / mib:F1} MiB of chunks ({(double)arrived.BytesIn / Math.Max(1, arrived.ConnectionsIn):F1} bytes per connection), {arrived.ChunksRejected} chunks rejected, {arrived.ConnectionsLost} connections lost"));
        output.WriteLine(string.Create(C, $"  time: {arrived.TransferMsIn} ms from the claims to the tables taken (summed over the tables), {elapsed.TotalMilliseconds:F0} ms from the start of the move to the last table taken"));
        if (tcpBytes is { } tcp)
        {
            output.WriteLine(string.Create(C, $"  wire: {tcp / mib:F1} MiB over TCP between the two processes ({(double)tcp / Math.Max(1, arrived.ConnectionsIn):F1} bytes per connection, membership gossip included)"));
        }

        foreach (var (node, before, after) in nodes)
        {
            output.WriteLine(string.Create(C, $"  memory {node}: peak resident {after.PeakRssBytes / mib:F0} MiB, {(after.PeakRssBytes - before.RssBytes) / mib:F0} MiB above the start of the move; {after.AllocatedBytes / mib:F0} MiB allocated"));
        }
    }
}
