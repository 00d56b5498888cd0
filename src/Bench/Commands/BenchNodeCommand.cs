using System.CommandLine;
using Actors.Cluster;
using Akka.Actor;
using Bench.Nodes;
using Host.Configuration;

namespace Bench.Commands;

/// <summary>
/// `bench-node [--seed ADDRESS] --shards N` (hidden): node B of a two-process bench, started by it.
/// Joins the cluster at ADDRESS (or forms one alone), hosts conntrack shards, answers for its memory
/// (/user/bench-node), prints `node: ADDRESS` once its region runs, and leaves the cluster when its
/// standard input closes (its shards hand their tables over to the other node).
/// </summary>
internal static class BenchNodeCommand
{
    public static Command Create()
    {
        var seed = new Option<string?>("--seed") { Description = "The address of the node to join (akka.tcp://datapath@127.0.0.1:PORT); none: form a cluster alone." };
        var shards = new Option<int>("--shards") { Description = "Conntrack shards (the same on both nodes).", DefaultValueFactory = _ => 16 };
        var command = new Command("bench-node", "Node B of a two-process bench (started by handoff-bench or ct-bench --nodes 2).") { seed, shards };
        command.Hidden = true;
        command.SetAction(async (parse, _) => await RunAsync(parse.GetValue(seed), parse.GetValue(shards), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error).ConfigureAwait(false));
        return command;
    }

    private static async Task<int> RunAsync(string? seedText, int shards, TextWriter output, TextWriter error)
    {
        if (shards < 1)
        {
            error.WriteLine("bench-node: --shards must be positive");
            return 2;
        }

        Address? seed = null;
        if (seedText is not null && !Address.TryParse(seedText, out seed))
        {
            error.WriteLine($"bench-node: --seed is an actor system address like akka.tcp://datapath@127.0.0.1:4053, not '{seedText}'");
            return 2;
        }

        var memory = new ProcessMemory();
        var config = BenchNodes.Config(shards, hostsShards: true);
        await using var node = await DatapathCluster.StartAsync(config.Config, DatapathSettings.From(config).Conntrack, seedNodes: seed is null ? null : [seed], upTimeout: TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        node.System.ActorOf(BenchNodeActor.Props(memory), BenchNodeActor.Name);
        memory.Mark();
        await output.WriteLineAsync(BenchNodes.ReadyPrefix + node.Address).ConfigureAwait(false);
        await output.FlushAsync().ConfigureAwait(false);

        // The bench closes our standard input when it is done; leaving (dispose) hands the shards back.
        await Task.Run(() => Console.In.ReadToEnd()).ConfigureAwait(false);
        return 0;
    }
}
