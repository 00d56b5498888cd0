using System.Diagnostics;
using Actors.Cluster;
using Actors.Conntrack;
using Actors.Node;
using Actors.Ports;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Datapath.OpenFlow;
using Host.Configuration;

namespace Host.Commands;

/// <summary>
/// `replay --nodes 2`: a capture through a cluster of two OS processes on 127.0.0.1. This process is
/// node A (port 1's frames, and frames of neither port); it starts node B (`replay-node`, port 2's
/// frames) and waits until B is up with its share of the conntrack shards. Frames go in capture order
/// as runs of consecutive frames of one node, each run finished before the next, so both nodes see the
/// capture in order and a connection whose two directions enter different nodes is one connection in
/// one shard. The verdicts are the single-node replay's lines. At the end B leaves gracefully (its shards
/// hand their tables to A), then the optional flush and dump run on A.
/// </summary>
internal static class TwoNodeReplay
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(90);

    public static async Task RunAsync(ReplayCommand.Options options, LoadedConfig config, DatapathSettings settings, IReadOnlyList<FlowEntry> flows, IReadOnlyList<ReplayFrame> frames, TextWriter writer, TextWriter output)
    {
        // Shards rebalance to B as soon as it joins rather than after the default 10 s.
        var akka = ConfigurationFactory.ParseString("akka.cluster.sharding.rebalance-interval = 500ms").WithFallback(config.Config);
        await using var cluster = await DatapathCluster.StartAsync(akka, settings.Conntrack).ConfigureAwait(false);
        var node = DatapathNode.Start(cluster, settings.Pmds, settings.Pmd, settings.Bridge);
        await node.UseFlowsAsync(flows, Patience).ConfigureAwait(false);
        using var child = StartNodeB(options, cluster.Address);
        try
        {
            var nodeB = await WhenNodeBReadyAsync(cluster, child).ConfigureAwait(false);
            foreach (var (onB, run) in Runs(frames))
            {
                var verdicts = onB ? await ReplayOnBAsync(nodeB, run).ConfigureAwait(false) : await ActorReplay.RunAsync(node, run, Patience).ConfigureAwait(false);
                foreach (var line in verdicts)
                {
                    await writer.WriteLineAsync(line).ConfigureAwait(false);
                }
            }

            // B leaves first: its shards come back to A with their tables, so A can flush and dump them all.
            nodeB.Tell(LeaveReplay.Instance, ActorRefs.NoSender);
            await WhenAloneAsync(cluster).ConfigureAwait(false);
            if (options.Flush is { } flush)
            {
                await ReplayCommand.FlushConntrackAsync(cluster, flush.Zone, output).ConfigureAwait(false);
            }

            if (options.DumpConntrack)
            {
                await ReplayCommand.DumpConntrackAsync(cluster, output).ConfigureAwait(false);
            }

            await node.StopAsync().ConfigureAwait(false);
            await child.WaitForExitAsync().WaitAsync(StartPatience).ConfigureAwait(false);
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>Consecutive frames of one node, split so that no run to B exceeds a <see cref="ReplayRun"/>'s bounds.</summary>
    internal static IEnumerable<(bool OnB, List<ReplayFrame> Run)> Runs(IReadOnlyList<ReplayFrame> frames)
    {
        var run = new List<ReplayFrame>();
        bool onB = false;
        int bytes = 0;
        foreach (var frame in frames)
        {
            bool toB = frame.Port == 2;
            bool full = toB && (run.Count == ReplayRun.MaxFrames || bytes + frame.Bytes.Length > ReplayRun.MaxBytes);
            if (run.Count > 0 && (toB != onB || full))
            {
                yield return (onB, run);
                run = [];
                bytes = 0;
            }

            onB = toB;
            run.Add(frame);
            bytes += frame.Bytes.Length;
        }

        if (run.Count > 0)
        {
            yield return (onB, run);
        }
    }

    private static async Task<IReadOnlyList<string>> ReplayOnBAsync(IActorRef nodeB, List<ReplayFrame> run)
    {
        var request = new ReplayRun([.. run.Select(f => f.Number)], [.. run.Select(f => f.Port)], [.. run.Select(f => f.TimeMs)], [.. run.Select(f => f.Bytes)]);
        var answer = await nodeB.Ask<object>(request, Patience).ConfigureAwait(false);
        return answer switch
        {
            ReplayRunDone done when done.Verdicts.Length == run.Count => done.Verdicts,
            ReplayRunDone done => throw new IOException($"replay: node B answered {done.Verdicts.Length} verdicts for {run.Count} frames"),
            ReplayRunFailed failed => throw new IOException("replay: node B: " + failed.Reason),
            _ => throw new IOException($"replay: node B answered {answer.GetType().Name}"),
        };
    }

    /// <summary>Starts this executable again as node B (`replay-node`), with the same flows and configuration.</summary>
    private static Process StartNodeB(ReplayCommand.Options options, Address seed)
    {
        var start = new ProcessStartInfo { UseShellExecute = false, RedirectStandardOutput = true };
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self).StartsWith("ovs-actors", StringComparison.Ordinal))
        {
            start.FileName = self;
        }
        else
        {
            // Under `dotnet ovs-actors.dll` or a test host: the same assembly through the dotnet host.
            start.FileName = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
            start.ArgumentList.Add(typeof(TwoNodeReplay).Assembly.Location);
        }

        start.ArgumentList.Add(ReplayNodeCommand.Name);
        start.ArgumentList.Add("--seed");
        start.ArgumentList.Add(seed.ToString());
        AddFile(start, "--flows", options.Flows);
        AddFile(start, "--config", options.Config);
        if (options.Bypass is { } bypass)
        {
            start.ArgumentList.Add("--bypass");
            start.ArgumentList.Add(bypass);
        }

        if (options.Pmds is { } pmds)
        {
            start.ArgumentList.Add("--pmds");
            start.ArgumentList.Add(pmds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        // Node B writes nothing on stdout; what it might is kept off ours (the verdicts).
        var process = Process.Start(start) ?? throw new IOException("replay: could not start node B");
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        return process;
    }

    private static void AddFile(ProcessStartInfo start, string option, FileInfo? file)
    {
        if (file is not null)
        {
            start.ArgumentList.Add(option);
            start.ArgumentList.Add(file.FullName);
        }
    }

    /// <summary>Waits until B is up, its replay actor answers, and it owns its share of the shards (the rebalance is over before traffic).</summary>
    private static async Task<IActorRef> WhenNodeBReadyAsync(DatapathCluster cluster, Process child)
    {
        var deadline = Stopwatch.StartNew();
        var akkaCluster = Akka.Cluster.Cluster.Get(cluster.System);
        while (true)
        {
            if (child.HasExited)
            {
                throw new IOException($"replay: node B exited with status {child.ExitCode} before the replay");
            }

            if (deadline.Elapsed > StartPatience)
            {
                throw new TimeoutException($"replay: node B was not ready within {StartPatience}");
            }

            var b = akkaCluster.State.Members.FirstOrDefault(m => m.Status == Akka.Cluster.MemberStatus.Up && !m.Address.Equals(cluster.Address));
            if (b is not null)
            {
                var root = new RootActorPath(b.Address);
                var identity = await cluster.System.ActorSelection(root / "user" / ReplayNodeActor.Name).Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                if (identity.Subject is { } replayNode && await OwnsItsShareAsync(cluster, root).ConfigureAwait(false))
                {
                    return replayNode;
                }
            }

            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    private static async Task<bool> OwnsItsShareAsync(DatapathCluster cluster, RootActorPath nodeB)
    {
        try
        {
            var state = await cluster.System.ActorSelection(nodeB / "system" / "sharding" / ConntrackSharding.TypeName)
                .Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            return state.Shards.Count >= cluster.ConntrackSettings.Shards / 2;
        }
        catch (AskTimeoutException)
        {
            return false;
        }
    }

    private static async Task WhenAloneAsync(DatapathCluster cluster)
    {
        var deadline = Stopwatch.StartNew();
        var akkaCluster = Akka.Cluster.Cluster.Get(cluster.System);
        while (akkaCluster.State.Members.Count > 1 && deadline.Elapsed < StartPatience)
        {
            await Task.Delay(100).ConfigureAwait(false);
        }
    }
}
