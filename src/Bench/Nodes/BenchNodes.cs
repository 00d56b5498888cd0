using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using Host.Commands;
using Host.Configuration;

namespace Bench.Nodes;

/// <summary>
/// The cluster nodes of the two-process benches: their configuration (one cluster on 127.0.0.1, ports
/// the OS chooses, shards only on nodes of the role "conntrack", connections that outlive the bench),
/// and node B as a second process of this executable (`bench-node`), which prints its address once its
/// conntrack region runs and leaves the cluster when its standard input closes.
/// </summary>
internal static class BenchNodes
{
    /// <summary>The role of the nodes that host conntrack shards; a node without it reaches them through a proxy.</summary>
    public const string ShardRole = "conntrack";

    /// <summary>The line node B prints on standard output when it is ready: this prefix, then its address.</summary>
    public const string ReadyPrefix = "node: ";

    /// <summary>A bench node's configuration: <paramref name="hostsShards"/> gives it the shard role.</summary>
    public static LoadedConfig Config(int shards, bool hostsShards)
    {
        var loaded = DatapathConfig.Load(null);
        string version = typeof(BenchNodes).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        var overlay = ConfigurationFactory.ParseString($$"""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            akka.cluster.roles = ["{{(hostsShards ? ShardRole : "bench")}}"]
            akka.cluster.sharding.role = "{{ShardRole}}"
            akka.cluster.sharding.rebalance-interval = 500ms
            akka.cluster.app-version = "{{version}}"
            datapath.conntrack {
              shards = {{shards.ToString(CultureInfo.InvariantCulture)}}
              # The bench's connections live through it: no expiry, no sweep.
              sweep-interval = 1h
              connection-limit = 100000000
              timeouts { udp-first = 24h, udp-single = 24h, udp-multiple = 24h }
            }
            """);
        return new LoadedConfig(overlay.WithFallback(loaded.Config), "bench node");
    }

    /// <summary>Starts node B (`bench-node`) and returns once it printed its address.</summary>
    public static async Task<(Process Process, Address Address)> StartNodeBAsync(int shards, Address? seed, TimeSpan patience)
    {
        var start = SelfProcess.StartInfo("ovs-actors-bench", typeof(BenchNodes).Assembly);
        start.RedirectStandardInput = true;
        start.ArgumentList.Add("bench-node");
        start.ArgumentList.Add("--shards");
        start.ArgumentList.Add(shards.ToString(CultureInfo.InvariantCulture));
        if (seed is not null)
        {
            start.ArgumentList.Add("--seed");
            start.ArgumentList.Add(seed.ToString());
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start node B");
        try
        {
            while (true)
            {
                string? line = await process.StandardOutput.ReadLineAsync().WaitAsync(patience).ConfigureAwait(false);
                if (line is null)
                {
                    throw new InvalidOperationException($"node B exited (status {(process.WaitForExit(5000) ? process.ExitCode : -1)}) before it was ready");
                }

                if (line.StartsWith(ReadyPrefix, StringComparison.Ordinal))
                {
                    return (process, Address.Parse(line[ReadyPrefix.Length..]));
                }
            }
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Tells node B to leave (its standard input closes) and waits for it to exit; killed after <paramref name="patience"/>.</summary>
    public static async Task StopNodeBAsync(Process process, TimeSpan patience)
    {
        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync().WaitAsync(patience).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Node B's bench actor.</summary>
    public static ActorSelection BenchActorAt(ActorSystem system, Address node) =>
        system.ActorSelection(new RootActorPath(node) / "user" / BenchNodeActor.Name);
}
