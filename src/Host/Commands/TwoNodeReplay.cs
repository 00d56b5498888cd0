using Actors.Node;
using Actors.Ports;
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
    /// <summary>Capture time between two captures of one run: longer than any connection's timeout, so nothing of one is alive in the next.</summary>
    private const long CaptureGapMs = 24 * 3600 * 1000;

    /// <summary>
    /// What both nodes of a two-process replay run on: a cluster node (the default is standalone),
    /// Akka's logs on stderr, shards that rebalance to B as soon as it joins rather than after the
    /// default 10 s (only the coordinator, on A, reads that), and this build's version as the nodes'
    /// app-version. Akka takes the entry assembly's by default, and sharding moves no shard between
    /// members of different app-versions (a rolling update): node A hosted by a test runner would
    /// never rebalance to B.
    /// </summary>
    public static Config NodeConfig(LoadedConfig config) =>
        ConfigurationFactory.ParseString($"akka.actor.provider = cluster\nakka.cluster.sharding.rebalance-interval = 500ms\nakka.cluster.app-version = \"{typeof(TwoNodeReplay).Assembly.GetName().Version?.ToString(3)}\"")
            .WithFallback(StandardErrorLogger.Config)
            .WithFallback(config.Config);

    /// <summary>Replays <paramref name="captures"/> one after another on the two nodes; each capture's verdict lines go to its writer.</summary>
    public static async Task RunAsync(ReplayCommand.Options options, LoadedConfig config, DatapathSettings settings, IReadOnlyList<FlowEntry> flows, IReadOnlyList<ReplayCapture> captures, TextWriter output)
    {
        await using var nodes = await TwoNodes.StartAsync(options, config, settings, flows).ConfigureAwait(false);
        var nodeB = await nodes.WhenBReadyAsync(owningItsShare: true).ConfigureAwait(false);
        long endMs = long.MinValue;
        for (int c = 0; c < captures.Count; c++)
        {
            if (c > 0)
            {
                await nodes.FlushAllAsync().ConfigureAwait(false);
            }

            var lines = await nodes.ReplayAsync(Rebased(captures[c].Frames, ref endMs), () => nodeB).ConfigureAwait(false);
            await captures[c].WriteVerdicts(lines).ConfigureAwait(false);
        }

        // B leaves first: its shards come back to A with their tables, so A can flush and dump them all.
        await nodes.LeaveAsync(nodeB).ConfigureAwait(false);
        if (options.Flush is { } flush)
        {
            await ReplayCommand.FlushConntrackAsync(nodes.Cluster, flush.Zone, output).ConfigureAwait(false);
        }

        if (options.DumpConntrack)
        {
            await ReplayCommand.DumpConntrackAsync(nodes.Cluster, output).ConfigureAwait(false);
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
}
