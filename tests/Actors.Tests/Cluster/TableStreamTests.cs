using Actors.Conntrack.Handoff;
using Actors.Tests.Support;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Tests.Support;

namespace Actors.Tests.Cluster;

/// <summary>
/// A table on its way to a shard's new entity keeps at most <see cref="HandoffLimits.Window"/> chunks
/// unacknowledged, whatever acknowledgements arrive: they come from another node.
/// </summary>
public sealed class TableStreamTests : Akka.TestKit.Xunit2.TestKit
{
    [Fact]
    public void Repeated_or_made_up_acknowledgements_do_not_open_the_window()
    {
        // Counted down once per acknowledgement with the transfer's id, ten copies of the first one let
        // ten more chunks go: the whole table could be sent at once.
        var table = new ConnectionTable(Defaults.ConntrackOptions);
        var commit = new ConntrackArgs { Commit = true };
        // Enough for more than twice the window of chunks (a connection costs about a hundred bytes).
        for (ushort zone = 0; table.Count < 3 * HandoffLimits.Window * HandoffLimits.ChunkBytes / 100; zone++)
        {
            foreach (var (input, time) in CaptureInputs.Read("many-conns.pcap", zone))
            {
                table.Execute(in input, in commit, time);
            }
        }

        var claimant = CreateTestProbe();
        var stream = new TableStream(1, table, 0);
        stream.Start(claimant.Ref, 7);
        var first = Enumerable.Range(0, HandoffLimits.Window).Select(_ => claimant.ExpectMsg<ShardStateChunk>()).ToList();
        Assert.Equal(Enumerable.Range(0, HandoffLimits.Window), first.Select(c => c.Sequence));
        Assert.False(first[^1].Last);

        for (int i = 0; i < 10; i++)
        {
            stream.Acknowledged(7, 0);
        }

        stream.Acknowledged(7, 99);
        stream.Acknowledged(8, 1);
        stream.Acknowledged(7, -1);

        // One chunk taken: one more goes, and no other.
        Assert.Equal(HandoffLimits.Window, claimant.ExpectMsg<ShardStateChunk>().Sequence);
        claimant.ExpectNoMsg(TimeSpan.Zero);

        // Acknowledgements are cumulative: one for the newest covers the lost ones before it.
        stream.Acknowledged(7, HandoffLimits.Window);
        var next = claimant.ReceiveN(HandoffLimits.Window).Cast<ShardStateChunk>().Select(c => c.Sequence);
        Assert.Equal(Enumerable.Range(HandoffLimits.Window + 1, HandoffLimits.Window), next);
    }
}
