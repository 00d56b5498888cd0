using System.Diagnostics;
using Actors.Conntrack.Handoff;
using Actors.Node;
using Akka.Actor;
using Datapath.Flow;
using Datapath.Replay;
using Datapath.Tests.Support;
using Host.Commands;
using Host.Configuration;
using Xunit.Abstractions;

namespace Host.Tests.Commands;

/// <summary>
/// Two real processes (node A: this test's process; node B: a `replay-node` child process): established
/// connections (udp-stream's eight UDP flows, tcp-long's one TCP download) replayed round after round,
/// frames flowing all the time, while B joins (shards rebalance to it, their tables with them), while B
/// owns its share (a connection's two directions enter different nodes), and while B leaves gracefully
/// (its shards come back). Every frame's verdict is Open vSwitch's, as on one node: no packet is lost or
/// judged differently across the join, the rebalance and the leave.
/// </summary>
public sealed class TwoNodeChurnTests(ITestOutputHelper output)
{
    private static readonly string[] Captures = ["udp-stream", "tcp-long"];
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);

    /// <summary>Port 2's runs replayed on B once it owns its share, before it is told to leave.</summary>
    private const int OwningRuns = 300;

    private enum Stage
    {
        Joining,
        Joined,
        Owning,
        Leaving,
        Left,
    }

    [Fact]
    public async Task Connections_flowing_while_node_B_joins_and_leaves_keep_every_verdict()
    {
        var ports = new ReplayPorts(Mac("02:00:00:00:00:01"), Mac("02:00:00:00:00:02"));
        var captures = Captures.Select(name => (Name: name, Frames: ReplayCommand.ReadFrames(new FileInfo(TestData.Capture(name + ".pcap")), ports), Expected: File.ReadAllLines(Path.Combine(TestData.Captures, "expected", name + ".verdict")))).ToList();
        // Eight shards, so that several move each way (both nodes read the same file).
        var file = new FileInfo(Path.Combine(Directory.CreateTempSubdirectory("two-node-churn-").FullName, "shards.conf"));
        File.WriteAllText(file.FullName, "datapath.conntrack.shards = 8\n");
        var config = ReplayCommand.LoadConfig(file, "megaflow", 2);
        var settings = DatapathSettings.From(config);
        Assert.True(DumpFlowsCommand.TryLoad(DatapathConfig.EmbeddedFirewallFlows(), DatapathConfig.EmbeddedFlowsName, TextWriter.Null, out var tables));
        var options = new ReplayCommand.Options(new FileInfo(TestData.Capture(Captures[0] + ".pcap")), null, "02:00:00:00:00:01", "02:00:00:00:00:02", null, file, 2, false, false, null, "megaflow");

        await using var nodes = await TwoNodes.StartAsync(options, config, settings, [.. tables.AllRules().Select(r => r.Entry)]);
        var up = nodes.WhenBReadyAsync(owningItsShare: false);
        var clock = Stopwatch.StartNew();
        var stage = Stage.Joining;
        var runsIn = new int[5];
        IActorRef? b = null;
        Task<bool>? owns = null;
        var asked = Stopwatch.StartNew();

        // Called before each of port 2's runs: moves the stage on when the cluster did, and says where the run goes.
        IActorRef? Target()
        {
            switch (stage)
            {
                case Stage.Joining when up.IsCompleted:
                    b = up.GetAwaiter().GetResult();
                    stage = Stage.Joined;
                    break;
                case Stage.Joined when owns is { IsCompleted: true }:
                    stage = owns.Result ? Stage.Owning : stage;
                    owns = null;
                    asked.Restart();
                    break;
                case Stage.Joined when owns is null && asked.ElapsedMilliseconds > 200:
                    owns = nodes.OwnsItsShareAsync(b!);
                    break;
                case Stage.Owning when runsIn[(int)Stage.Owning] >= OwningRuns:
                    b!.Tell(LeaveReplay.Instance);
                    stage = Stage.Leaving;
                    break;
                case Stage.Leaving when Akka.Cluster.Cluster.Get(nodes.Cluster.System).State.Members.Count == 1:
                    stage = Stage.Left;
                    break;
            }

            runsIn[(int)stage]++;
            return stage is Stage.Joined or Stage.Owning ? b : null;
        }

        var differing = new List<string>();
        long endMs = long.MinValue;
        int rounds = 0;
        bool first = true;
        for (int roundsLeft = int.MaxValue; roundsLeft > 0 && clock.Elapsed < Patience; roundsLeft--, rounds++)
        {
            foreach (var (name, frames, expected) in captures)
            {
                if (!first)
                {
                    await nodes.FlushAllAsync();
                }

                first = false;
                var lines = await nodes.ReplayAsync(TwoNodeReplay.Rebased(frames, ref endMs), Target);
                differing.AddRange(lines.Zip(expected).Where(pair => pair.First != pair.Second).Select(pair => $"round {rounds} {name}: {pair.First} where Open vSwitch says {pair.Second}"));
            }

            // One whole round once B is gone, on A alone with the tables B gave back.
            if (stage == Stage.Left && roundsLeft > 1)
            {
                roundsLeft = 2;
            }
        }

        output.WriteLine($"{rounds} rounds in {clock.Elapsed.TotalSeconds:F1} s; port 2's runs while {string.Join(", ", Enum.GetValues<Stage>().Select(s => $"{s}: {runsIn[(int)s]}"))}");
        Assert.Equal(Stage.Left, stage);
        Assert.Empty(differing);
        Assert.All(new[] { Stage.Joining, Stage.Joined, Stage.Owning, Stage.Leaving, Stage.Left }, s => Assert.True(runsIn[(int)s] > 0, $"no frames went while {s}: {string.Join(", ", runsIn)}"));

        // The tables went to B and came back, none lost.
        var moved = await Akka.Actor.Futures.Ask<HandoffStatistics>(ShardHandoff.Get(nodes.Cluster.System).Keeper, GetHandoffStatistics.Instance, TimeSpan.FromSeconds(10));
        output.WriteLine($"node A: {moved}");
        Assert.True(moved.HandoffsOut > 0 && moved.HandoffsIn > 0, $"hand-offs out {moved.HandoffsOut}, in {moved.HandoffsIn}");
        Assert.Equal(0, moved.ChunksRejected);
        Assert.Equal(0, moved.ConnectionsLost);
        file.Directory!.Delete(recursive: true);
    }

    private static ulong Mac(string text) => FlowKey.TryParseMac(text, out ulong mac) ? mac : throw new FormatException(text);
}
