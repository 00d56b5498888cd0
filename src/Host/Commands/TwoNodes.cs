using System.Diagnostics;
using Actors.Cluster;
using Actors.Conntrack;
using Actors.Node;
using Actors.Ports;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Datapath.OpenFlow;
using Host.Configuration;

namespace Host.Commands;

/// <summary>
/// The two nodes of a two-process replay as this process (node A) drives them: A's cluster node, PMDs
/// (with the flows) and replay port on the capture clock, and node B, a second OS process
/// (`replay-node`) that joins A's cluster. Frames go to either node in runs, each finished before the
/// next (<see cref="ReplayAsync"/>). Disposing stops A's node and ends B's process if it is still there.
/// </summary>
internal sealed class TwoNodes : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(90);

    private TwoNodes(DatapathCluster cluster, DatapathNode node, ReplaySession session, Process b)
    {
        Cluster = cluster;
        Node = node;
        Session = session;
        B = b;
    }

    /// <summary>Node A's cluster node (this process).</summary>
    public DatapathCluster Cluster { get; }

    public DatapathNode Node { get; }

    public ReplaySession Session { get; }

    /// <summary>Node B's process.</summary>
    public Process B { get; }

    /// <summary>Starts node A, then node B's process (which joins A; <see cref="WhenBReadyAsync"/> says when it is up).</summary>
    public static async Task<TwoNodes> StartAsync(ReplayCommand.Options options, LoadedConfig config, DatapathSettings settings, IReadOnlyList<FlowEntry> flows)
    {
        // The capture's clock alone on both nodes, as a single-node replay keeps it: no wall time between frames.
        var cluster = await DatapathCluster.StartAsync(TwoNodeReplay.NodeConfig(config), settings.Conntrack with { FrameClock = true }).ConfigureAwait(false);
        try
        {
            var node = DatapathNode.Start(cluster, settings.Pmds, settings.Pmd with { FrameClock = true }, settings.Bridge);
            await node.UseFlowsAsync(flows, Patience).ConfigureAwait(false);
            var session = await ReplaySession.StartAsync(node, Patience).ConfigureAwait(false);
            return new TwoNodes(cluster, node, session, StartNodeB(options, cluster.Address));
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// B's replay actor once B is up; with <paramref name="owningItsShare"/>, only once B also owns its
    /// share of the shards (the rebalance is over before traffic).
    /// </summary>
    public async Task<IActorRef> WhenBReadyAsync(bool owningItsShare)
    {
        var deadline = Stopwatch.StartNew();
        var akkaCluster = Akka.Cluster.Cluster.Get(Cluster.System);
        while (true)
        {
            if (B.HasExited)
            {
                throw new IOException($"replay: node B exited with status {B.ExitCode} before the replay");
            }

            if (deadline.Elapsed > StartPatience)
            {
                throw new TimeoutException($"replay: node B was not ready within {StartPatience}");
            }

            var b = akkaCluster.State.Members.FirstOrDefault(m => m.Status == Akka.Cluster.MemberStatus.Up && !m.Address.Equals(Cluster.Address));
            if (b is not null)
            {
                var identity = await Cluster.System.ActorSelection(new RootActorPath(b.Address) / "user" / ReplayNodeActor.Name).Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                if (identity.Subject is { } replayNode && (!owningItsShare || await OwnsItsShareAsync(replayNode).ConfigureAwait(false)))
                {
                    return replayNode;
                }
            }

            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    /// <summary>Whether the node of <paramref name="nodeB"/> owns at least half the shards.</summary>
    public async Task<bool> OwnsItsShareAsync(IActorRef nodeB)
    {
        try
        {
            var state = await Cluster.System.ActorSelection(nodeB.Path.Root / "system" / "sharding" / ConntrackSharding.TypeName)
                .Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            return state.Shards.Count >= Cluster.ConntrackSettings.Shards / 2;
        }
        catch (AskTimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// Replays one capture's frames in <see cref="TwoNodeReplay.Runs"/>: port 2's runs on the node B that
    /// <paramref name="nodeB"/> names at that moment (none: on A), the others on A. Returns the verdict
    /// lines in capture order.
    /// </summary>
    public async Task<IReadOnlyList<string>> ReplayAsync(IReadOnlyList<ReplayFrame> frames, Func<IActorRef?> nodeB)
    {
        // Phases may take frames out of capture order (never within a connection): the lines are written in it.
        var lines = new Dictionary<long, string>(frames.Count);
        foreach (var (onB, run) in TwoNodeReplay.Runs(frames))
        {
            var verdicts = onB && nodeB() is { } b ? await ReplayOnBAsync(b, run).ConfigureAwait(false) : await Session.RunAsync(run, Patience).ConfigureAwait(false);
            for (int i = 0; i < run.Count; i++)
            {
                lines[run[i].Number] = verdicts[i];
            }
        }

        return [.. frames.Select(frame => lines[frame.Number])];
    }

    /// <summary>Empties every shard's table, on whichever node it lives.</summary>
    public async Task FlushAllAsync() =>
        await Task.WhenAll(Enumerable.Range(0, Cluster.ConntrackSettings.Shards)
            .Select(shard => Cluster.Conntrack.Ask<ConnectionsFlushed>(new ConntrackEnvelope(shard, new FlushConnections(null)), Patience))).ConfigureAwait(false);

    /// <summary>Tells B to leave gracefully (its shards hand their tables to A) and waits until A is alone.</summary>
    public async Task LeaveAsync(IActorRef nodeB)
    {
        nodeB.Tell(LeaveReplay.Instance, ActorRefs.NoSender);
        await WhenAloneAsync().ConfigureAwait(false);
    }

    /// <summary>Waits until A is the only member (B left, or never joined).</summary>
    public async Task WhenAloneAsync()
    {
        var deadline = Stopwatch.StartNew();
        var akkaCluster = Akka.Cluster.Cluster.Get(Cluster.System);
        while (akkaCluster.State.Members.Count > 1 && deadline.Elapsed < StartPatience)
        {
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            Session.Stop();
            if (Akka.Cluster.Cluster.Get(Cluster.System).State.Members.Count <= 1)
            {
                await Node.StopAsync().ConfigureAwait(false);
                if (!B.HasExited)
                {
                    await B.WaitForExitAsync().WaitAsync(StartPatience).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (!B.HasExited)
            {
                B.Kill(entireProcessTree: true);
            }

            B.Dispose();
            await Cluster.DisposeAsync().ConfigureAwait(false);
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
        var start = SelfProcess.StartInfo("ovs-actors", typeof(TwoNodes).Assembly);
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
}
