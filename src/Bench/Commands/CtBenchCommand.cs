using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Actors.Cluster;
using Actors.Conntrack;
using Akka.Actor;
using Bench.CtBench;
using Host.Configuration;

namespace Bench.Commands;

/// <summary>
/// `ct-bench`: benchmark 3 of the conntrack issue. PMD-like sender actors push batches of 32
/// UDP packets, split by shard, through the conntrack shard actors of a single-node cluster,
/// each keeping a window of batches outstanding, and the command prints packets per second end
/// to end (first batch sent to last result merged), through the region and with direct shard
/// references.
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
        var command = new Command("ct-bench", "Measure conntrack through the shard actors: packets per second end to end.")
        {
            senders, shards, connections, packets, window, route,
        };
        command.SetAction(parse => Run(
            new Options(parse.GetValue(senders), parse.GetValue(shards), parse.GetValue(connections), parse.GetValue(packets), parse.GetValue(window), parse.GetValue(route)!),
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error));
        return command;
    }

    internal sealed record Options(int Senders, int Shards, int Connections, long Packets, int Window, string Route);

    internal static int Run(Options options, TextWriter output, TextWriter error)
    {
        if (options.Senders < 1 || options.Shards < 1 || options.Connections < 1 || options.Packets < 1 || options.Window < 1)
        {
            error.WriteLine("ct-bench: --senders, --shards, --connections, --packets and --window must be positive");
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
        await using var node = await DatapathCluster.StartAsync(config.Config, DatapathSettings.From(config).Conntrack, "ct-bench").ConfigureAwait(false);
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"ct-bench: {options.Senders} senders x {options.Packets} packets, batches of 32, window {options.Window}, {options.Shards} shards, {options.Connections} UDP connections per sender, {Environment.ProcessorCount} cores"));

        // Warm up (JIT, shard actors started, tables grown) on a separate set of connections.
        await Measure(node, options with { Packets = Math.Min(options.Packets, 100_000) }, direct: false, senderBase: 100).ConfigureAwait(false);

        if (options.Route is "region" or "both")
        {
            Report(output, "region", options, await Measure(node, options, direct: false, senderBase: 0).ConfigureAwait(false));
        }

        if (options.Route is "direct" or "both")
        {
            Report(output, "direct", options, await Measure(node, options, direct: true, senderBase: 0).ConfigureAwait(false));
        }

        return 0;
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

    private static void Report(TextWriter output, string route, Options options, (TimeSpan Elapsed, long Messages) run)
    {
        long packets = options.Packets * options.Senders;
        double seconds = run.Elapsed.TotalSeconds;
        long batches = (options.Packets + 31) / 32 * options.Senders;
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{route,-6}: {packets} packets in {seconds:F3} s: {packets / seconds / 1e6:F3} Mpps, {run.Elapsed.TotalNanoseconds / packets:F1} ns/packet, {(double)run.Messages / batches:F2} messages per batch"));
    }
}
