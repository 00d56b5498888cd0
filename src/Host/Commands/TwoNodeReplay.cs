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
/// `replay --nodes 2`: captures through a cluster of two OS processes on 127.0.0.1. This process is
/// node A (port 1's frames, and frames of neither port); it starts node B (`replay-node`, port 2's
/// frames) and waits until B is up with its share of the conntrack shards. Frames go in capture order
/// as runs of consecutive frames of one node, each run finished before the next, so both nodes see the
/// capture in order and a connection whose two directions enter different nodes is one connection in
/// one shard. The verdicts are the single-node replay's lines. Both nodes start once for every capture
/// given, and each node replays all its runs through one port (<see cref="ReplaySession"/>); between
/// captures the connection table is flushed and the capture clock moves on past every timeout, so each
/// capture runs as it would alone. At the end B leaves gracefully (its shards hand their tables to A),
/// then the optional flush and dump run on A.
/// </summary>
internal static class TwoNodeReplay
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(90);

    /// <summary>Capture time between two captures of one run: longer than any connection's timeout, so nothing of one is alive in the next.</summary>
    private const long CaptureGapMs = 24 * 3600 * 1000;

    /// <summary>
    /// What both nodes of a two-process replay run on: a cluster node (the default is standalone),
    /// Akka's logs on stderr, and shards that rebalance to B as soon as it joins rather than after
    /// the default 10 s (only the coordinator, on A, reads that).
    /// </summary>
    public static Config NodeConfig(LoadedConfig config) =>
        ConfigurationFactory.ParseString("akka.actor.provider = cluster\nakka.cluster.sharding.rebalance-interval = 500ms")
            .WithFallback(StandardErrorLogger.Config)
            .WithFallback(config.Config);

    /// <summary>Replays <paramref name="captures"/> one after another on the two nodes; each capture's verdict lines go to its writer.</summary>
    public static async Task RunAsync(ReplayCommand.Options options, LoadedConfig config, DatapathSettings settings, IReadOnlyList<FlowEntry> flows, IReadOnlyList<ReplayCapture> captures, TextWriter output)
    {
        // The capture's clock alone on both nodes, as a single-node replay keeps it: no wall time between frames.
        await using var cluster = await DatapathCluster.StartAsync(NodeConfig(config), settings.Conntrack with { FrameClock = true }).ConfigureAwait(false);
        var node = DatapathNode.Start(cluster, settings.Pmds, settings.Pmd with { FrameClock = true }, settings.Bridge);
        await node.UseFlowsAsync(flows, Patience).ConfigureAwait(false);
        var session = await ReplaySession.StartAsync(node, Patience).ConfigureAwait(false);
        using var child = StartNodeB(options, cluster.Address);
        try
        {
            var nodeB = await WhenNodeBReadyAsync(cluster, child).ConfigureAwait(false);
            long endMs = long.MinValue;
            for (int c = 0; c < captures.Count; c++)
            {
                if (c > 0)
                {
                    await FlushAllAsync(cluster).ConfigureAwait(false);
                }

                var frames = Rebased(captures[c].Frames, ref endMs);

                // Phases may take frames out of capture order (never within a connection): the lines are written in it.
                var lines = new Dictionary<long, string>(frames.Count);
                foreach (var (onB, run) in Runs(frames))
                {
                    var verdicts = onB ? await ReplayOnBAsync(nodeB, run).ConfigureAwait(false) : await session.RunAsync(run, Patience).ConfigureAwait(false);
                    for (int i = 0; i < run.Count; i++)
                    {
                        lines[run[i].Number] = verdicts[i];
                    }
                }

                await captures[c].WriteVerdicts([.. frames.Select(frame => lines[frame.Number])]).ConfigureAwait(false);
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

            session.Stop();
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

    /// <summary>
    /// The frames of the next capture with their times moved on, when needed, to <see cref="CaptureGapMs"/>
    /// after the end of the captures before (<paramref name="endMs"/>, updated): the nodes' clocks never go back.
    /// </summary>
    internal static List<ReplayFrame> Rebased(IReadOnlyList<ReplayFrame> frames, ref long endMs)
    {
        if (frames.Count == 0)
        {
            return [];
        }

        long shift = endMs == long.MinValue ? 0 : Math.Max(0, endMs + CaptureGapMs - frames.Min(f => f.TimeMs));
        var rebased = shift == 0 ? [.. frames] : frames.Select(f => f with { TimeMs = f.TimeMs + shift }).ToList();
        endMs = Math.Max(endMs, rebased.Max(f => f.TimeMs));
        return rebased;
    }

    /// <summary>Empties every shard's table, on whichever node it lives.</summary>
    private static async Task FlushAllAsync(DatapathCluster cluster)
    {
        await Task.WhenAll(Enumerable.Range(0, cluster.ConntrackSettings.Shards)
            .Select(shard => cluster.Conntrack.Ask<ConnectionsFlushed>(new ConntrackEnvelope(shard, new FlushConnections(null)), Patience))).ConfigureAwait(false);
    }

    /// <summary>
    /// The frames in phases, each on one node and finished before the next starts. A phase takes the
    /// frames of its node in capture order and leaves the other node's for the next phase, until a frame
    /// of a connection that has a left frame waiting (it must come after it), or a frame more than
    /// <see cref="MaxSkewMs"/> of capture time after the first one left (so that a shard's clock never
    /// runs ahead of a waiting frame by more than that). Connections are told apart by the symmetric
    /// placement hash (a collision only ends a phase early). Phases to B respect a <see cref="ReplayRun"/>'s bounds.
    /// </summary>
    internal static IEnumerable<(bool OnB, List<ReplayFrame> Run)> Runs(IReadOnlyList<ReplayFrame> frames)
    {
        var pending = new List<ReplayFrame>(frames);
        bool onB = pending.Count > 0 && pending[0].Port == 2;
        while (pending.Count > 0)
        {
            var run = new List<ReplayFrame>();
            var left = new List<ReplayFrame>();
            var waiting = new HashSet<uint>();
            int bytes = 0;
            long? firstLeftMs = null;
            int i = 0;
            for (; i < pending.Count; i++)
            {
                var frame = pending[i];
                uint connection = ConnectionOf(frame);
                if ((frame.Port == 2) == onB)
                {
                    bool full = onB && (run.Count == ReplayRun.MaxFrames || bytes + frame.Bytes.Length > ReplayRun.MaxBytes);
                    if (full || waiting.Contains(connection) || frame.TimeMs - firstLeftMs > MaxSkewMs)
                    {
                        break;
                    }

                    run.Add(frame);
                    bytes += frame.Bytes.Length;
                }
                else
                {
                    left.Add(frame);
                    waiting.Add(connection);
                    firstLeftMs ??= frame.TimeMs;
                }
            }

            if (run.Count > 0)
            {
                yield return (onB, run);
            }

            left.AddRange(pending.Skip(i));
            pending = left;
            onB = !onB;
        }
    }

    /// <summary>How far (capture time) a phase may run ahead of the other node's first waiting frame.</summary>
    private const long MaxSkewMs = 1_000;

    /// <summary>A frame's connection as its symmetric placement hash (both directions alike); 0 for frames conntrack cannot key.</summary>
    private static uint ConnectionOf(ReplayFrame frame)
    {
        var packet = new Datapath.Packets.Packet();
        packet.SetFrame(frame.Bytes, frame.Port);
        var key = default(Datapath.Flow.FlowKey);
        Datapath.Flow.FlowExtractor.Extract(packet, ref key, new Datapath.Flow.ExtractionStats());
        return Datapath.Conntrack.ConntrackInput.TryParse(packet, in key, 0, out var input) ? input.ShardHash : 0;
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
