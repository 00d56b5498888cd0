using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Actors.Cluster;
using Actors.Conntrack;
using Akka.Actor;
using Bench.CtBench;
using Bench.Nodes;
using Host.Configuration;

namespace Bench.Commands;

/// <summary>
/// `ct-bench`: benchmark 3 of the conntrack issue. PMD-like sender actors push batches of 32
/// UDP packets, split by shard, through the conntrack shard actors of a single-node cluster,
/// each keeping a window of batches outstanding, and the command prints packets per second end
/// to end (first batch sent to last result merged), through the region and with direct shard
/// references. With `--nodes 2`, then the same with every shard on a second process (node B,
/// `bench-node`; the senders' node only has a proxy to them), back to back, with the bytes the TCP
/// connections between the two processes carried per packet.
/// </summary>
internal static class CtBenchCommand
{
    public static Command Create()
    {
        var senders = new Option<int>("--senders") { Description = "PMD-like sender actors.", DefaultValueFactory = _ => 2 };
        var shards = new Option<int>("--shards") { Description = "Conntrack shards.", DefaultValueFactory = _ => 16 };
        var connections = new Option<int>("--connections") { Description = "UDP connections per sender.", DefaultValueFactory = _ => 1000 };
        var packets = new Option<long>("--packets") { Description = "Packets per sender.", DefaultValueFactory = _ => 2_000_000 };
        var window = new Option<int>("--window") { Description = "Batches each sender keeps outstanding.", DefaultValueFactory = _ => 8 };
        var route = new Option<string>("--route") { Description = "region, direct, or both.", DefaultValueFactory = _ => "both" };
        route.AcceptOnlyFromAmong("region", "direct", "both");
        var nodes = new Option<int>("--nodes") { Description = "1: shards on this process; 2: also with every shard on a second process (remote), measured right after.", DefaultValueFactory = _ => 1 };
        var command = new Command("ct-bench", "Measure conntrack through the shard actors: packets per second end to end.")
        {
            senders, shards, connections, packets, window, route, nodes,
        };
        command.SetAction(parse => Run(
            new Options(parse.GetValue(senders), parse.GetValue(shards), parse.GetValue(connections), parse.GetValue(packets), parse.GetValue(window), parse.GetValue(route)!) { Nodes = parse.GetValue(nodes) },
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error));
        return command;
    }

    internal sealed record Options(int Senders, int Shards, int Connections, long Packets, int Window, string Route)
    {
        /// <summary>1, or 2 to measure remote shards too (node B, a second process).</summary>
        public int Nodes { get; init; } = 1;
    }

    internal static int Run(Options options, TextWriter output, TextWriter error)
    {
        if (options.Senders < 1 || options.Shards < 1 || options.Connections < 1 || options.Packets < 1 || options.Window < 1)
        {
            error.WriteLine("ct-bench: --senders, --shards, --connections, --packets and --window must be positive");
            return 2;
        }

        if (options.Nodes is < 1 or > 2)
        {
            error.WriteLine("ct-bench: --nodes is 1 or 2");
            return 2;
        }

        try
        {
            // Off the caller's synchronization context: the command's own thread only waits.
            return Task.Run(() => RunAsync(options, output)).GetAwaiter().GetResult();
        }
        catch (ConfigurationException e)
        {
            error.WriteLine("ct-bench: " + e.Message);
            return 2;
        }
        catch (Exception e) when (e is TimeoutException or ArgumentException or InvalidOperationException)
        {
            error.WriteLine("ct-bench: " + e.Message);
            return 1;
        }
    }

    private static async Task<int> RunAsync(Options options, TextWriter output)
    {
        var config = DatapathConfig.Load(null).With("datapath.conntrack.shards", options.Shards.ToString(CultureInfo.InvariantCulture), "--shards");
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"ct-bench: {options.Senders} senders x {options.Packets} packets, batches of 32, window {options.Window}, {options.Shards} shards, {options.Connections} UDP connections per sender, {Environment.ProcessorCount} cores"));
        await using (var node = await DatapathCluster.StartAsync(config.Config, DatapathSettings.From(config).Conntrack, "ct-bench").ConfigureAwait(false))
        {
            await MeasureRoutesAsync(node, options, output, string.Empty, null).ConfigureAwait(false);
        }

        if (options.Nodes == 2)
        {
            await MeasureRemoteAsync(options, output).ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>Every shard on node B (a second process); this process's node has only a proxy to them (it has not the shard role).</summary>
    private static async Task MeasureRemoteAsync(Options options, TextWriter output)
    {
        var (process, addressB) = await BenchNodes.StartNodeBAsync(options.Shards, seed: null, TimeSpan.FromSeconds(90)).ConfigureAwait(false);
        using var nodeB = process;
        try
        {
            var config = BenchNodes.Config(options.Shards, hostsShards: false);
            await using var node = await DatapathCluster.StartAsync(config.Config, DatapathSettings.From(config).Conntrack, seedNodes: [addressB], upTimeout: TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            await MeasureRoutesAsync(node, options, output, "remote ", (node.Address.Port ?? 0, addressB.Port ?? 0)).ConfigureAwait(false);
        }
        finally
        {
            await BenchNodes.StopNodeBAsync(nodeB, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        }
    }

    /// <param name="ports">The two processes' remoting ports, whose TCP bytes are counted; null for one process.</param>
    private static async Task MeasureRoutesAsync(DatapathCluster node, Options options, TextWriter output, string label, (int A, int B)? ports)
    {
        // Warm up (JIT, shard actors started, tables grown) on a separate set of connections.
        await Measure(node, options with { Packets = Math.Min(options.Packets, 100_000) }, direct: false, senderBase: 100).ConfigureAwait(false);

        foreach (var (route, direct) in new[] { ("region", false), ("direct", true) })
        {
            if (options.Route == route || options.Route == "both")
            {
                long? before = ports is { } p ? TcpBytes.Between(p.A, p.B) : 0;
                var run = await Measure(node, options, direct, senderBase: 0).ConfigureAwait(false);
                long? after = ports is { } q ? TcpBytes.Between(q.A, q.B) : 0;
                Report(output, label + route, options, run, after - before);
            }
        }
    }

    private static async Task<(TimeSpan Elapsed, long Messages)> Measure(DatapathCluster node, Options options, bool direct, int senderBase)
    {
        var traffic = new CtBenchTrafficSet(options.Senders, senderBase, options.Connections);
        var done = new TaskCompletionSource<long>[options.Senders];
        var actors = new IActorRef[options.Senders];
        for (int s = 0; s < options.Senders; s++)
        {
            done[s] = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            var routes = new ConntrackRoutes(node.Conntrack, options.Shards, direct);
            actors[s] = node.System.ActorOf(CtBenchSender.Props(traffic[s], routes, options.Window, options.Packets, done[s]));
        }

        var clock = Stopwatch.StartNew();
        foreach (var actor in actors)
        {
            actor.Tell(CtBenchSender.Start.Instance);
        }

        var all = Task.WhenAll(done.Select(d => d.Task));
        var limit = TimeSpan.FromMinutes(10);
        if (await Task.WhenAny(all, Task.Delay(limit)).ConfigureAwait(false) != all)
        {
            throw new TimeoutException($"the senders did not finish within {limit}");
        }

        clock.Stop();
        foreach (var actor in actors)
        {
            node.System.Stop(actor);
        }

        return (clock.Elapsed, (await all.ConfigureAwait(false)).Sum());
    }

    /// <param name="wireBytes">Bytes the TCP connections between the processes carried meanwhile (0 in one process, null when unknown).</param>
    private static void Report(TextWriter output, string route, Options options, (TimeSpan Elapsed, long Messages) run, long? wireBytes)
    {
        long packets = options.Packets * options.Senders;
        double seconds = run.Elapsed.TotalSeconds;
        long batches = (options.Packets + 31) / 32 * options.Senders;
        string wire = wireBytes is { } bytes ? string.Create(CultureInfo.InvariantCulture, $"{(double)bytes / packets:F1}") : "unknown";
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{route,-6}: {packets} packets in {seconds:F3} s: {packets / seconds / 1e6:F3} Mpps, {run.Elapsed.TotalNanoseconds / packets:F1} ns/packet, {(double)run.Messages / batches:F2} messages per batch, {2.0 * run.Messages / packets:F3} messages per packet (batches and answers), {wire} bytes per packet on the wire"));
    }
}
