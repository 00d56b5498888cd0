using System.CommandLine;
using Actors.Cluster;
using Actors.Node;
using Akka.Actor;
using Host.Configuration;

namespace Host.Commands;

/// <summary>
/// `replay-node --seed ADDRESS [--flows F] [--config F] [--bypass MODE] [--pmds N]` (hidden): node B
/// of `replay --nodes 2`, started by it as a second process. Joins the cluster at ADDRESS, installs
/// the flows, replays the runs of frames node A sends it (<see cref="ReplayNodeActor"/>) and, when
/// told the replay is over, leaves the cluster gracefully (its conntrack shards hand their tables to
/// node A) and exits. Writes nothing on stdout.
/// </summary>
internal static class ReplayNodeCommand
{
    public const string Name = "replay-node";

    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);

    public static Command Create()
    {
        var seed = new Option<string>("--seed") { Description = "The address of node A (akka.tcp://datapath@127.0.0.1:PORT).", Required = true };
        var flows = new Option<FileInfo?>("--flows") { Description = "Flows in ovs-ofctl add-flows syntax (default: the embedded firewall)." };
        var config = new Option<FileInfo?>("--config") { Description = "A HOCON file layered over the embedded default." };
        var pmds = new Option<int?>("--pmds") { Description = "PMD actors (overrides datapath.pmds)." };
        var bypass = BypassOption.Create();
        var command = new Command(Name, "Node B of a two-process replay (started by replay --nodes 2).") { seed, flows, config, pmds, bypass };
        command.Hidden = true;
        command.SetAction(async (parse, _) => await RunAsync(
            parse.GetValue(seed)!, parse.GetValue(flows), parse.GetValue(config), parse.GetValue(pmds), parse.GetValue(bypass), parse.InvocationConfiguration.Error).ConfigureAwait(false));
        return command;
    }

    private static async Task<int> RunAsync(string seedText, FileInfo? flowsFile, FileInfo? configFile, int? pmds, string? bypass, TextWriter error)
    {
        Address seed;
        try
        {
            seed = Address.Parse(seedText);
        }
        catch (UriFormatException)
        {
            error.WriteLine($"{Name}: --seed is an actor system address like akka.tcp://datapath@127.0.0.1:4053, not '{seedText}'");
            return 2;
        }

        bool loaded = flowsFile is null
            ? DumpFlowsCommand.TryLoad(DatapathConfig.EmbeddedFirewallFlows(), DatapathConfig.EmbeddedFlowsName, error, out var tables)
            : DumpFlowsCommand.TryLoad(flowsFile, error, Name, out tables);
        if (!loaded)
        {
            return 1;
        }

        try
        {
            var config = ReplayCommand.LoadConfig(configFile, bypass, pmds);
            var settings = DatapathSettings.From(config);
            await using var cluster = await DatapathCluster.StartAsync(TwoNodeReplay.NodeConfig(config), settings.Conntrack with { FrameClock = true }, seedNodes: [seed], upTimeout: TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            var node = DatapathNode.Start(cluster, settings.Pmds, settings.Pmd with { FrameClock = true }, settings.Bridge);
            await node.UseFlowsAsync([.. tables.AllRules().Select(r => r.Entry)], Patience).ConfigureAwait(false);
            var session = await ReplaySession.StartAsync(node, Patience).ConfigureAwait(false);
            var leave = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            cluster.System.ActorOf(ReplayNodeActor.Props(session, Patience, leave), ReplayNodeActor.Name);

            // Node A gone (it crashed or was killed) ends this node too.
            await Task.WhenAny(leave.Task, cluster.System.WhenTerminated, WhenAlone(cluster)).ConfigureAwait(false);
            await node.StopAsync().ConfigureAwait(false);
            return 0;
        }
        catch (ConfigurationException e)
        {
            error.WriteLine($"{Name}: " + e.Message);
            return 2;
        }
        catch (Exception e) when (e is TimeoutException or ClusterIncompatibleException)
        {
            error.WriteLine($"{Name}: " + e.Message);
            return 1;
        }
    }

    /// <summary>Completes once this node is the only member left.</summary>
    private static Task WhenAlone(DatapathCluster cluster)
    {
        var alone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var self = Akka.Cluster.Cluster.Get(cluster.System);
        self.RegisterOnMemberRemoved(() => alone.TrySetResult());
        _ = Task.Run(async () =>
        {
            while (!alone.Task.IsCompleted)
            {
                await Task.Delay(500).ConfigureAwait(false);
                if (self.State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) == 1 && self.State.Members.Count == 1)
                {
                    alone.TrySetResult();
                }
            }
        });
        return alone.Task;
    }
}
