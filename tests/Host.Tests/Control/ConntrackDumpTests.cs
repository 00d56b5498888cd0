using Actors.Conntrack;
using Host.Configuration;
using Akka.Actor;
using Datapath.Actions;
using Datapath.Conntrack;
using Host.Control;

namespace Host.Tests.Control;

/// <summary>
/// dpctl/dump-conntrack against a real conntrack shard of 5,000 connections: the answer comes in
/// pages, one page held at a time however large the table, and a dump whose client went away
/// asks for no further page.
/// </summary>
public sealed class ConntrackDumpTests : IAsyncLifetime
{
    private const int Connections = 5_000;
    private ActorSystem _system = null!;
    private DatapathControl _control = null!;

    public async Task InitializeAsync()
    {
        _system = ActorSystem.Create("dump-tests");
        var settings = DatapathSettings.From(DatapathConfig.LoadEmbedded(), DatapathConfig.EmbeddedName).Conntrack;
        var shard = _system.ActorOf(ConntrackShardActor.Props(0, settings));
        var region = _system.ActorOf(Props.Create(() => new Unwrapping(shard)));
        var inputs = Enumerable.Range(0, Connections).Select(Udp).ToArray();
        var tracked = await shard.Ask<ConnectionsTracked>(new TrackConnections(0, 1, 0, new ConntrackArgs { Zone = 0, Commit = true }, inputs), TimeSpan.FromSeconds(30));
        Assert.Equal(Connections, tracked.Results.Length);
        var targets = new ControlTargets(ActorRefs.Nobody, region, 1, 1, TimeSpan.FromSeconds(30), () => { });
        _control = new DatapathControl(targets, new VlogModules(TextWriter.Null));
    }

    public async Task DisposeAsync()
    {
        await _control.DisposeAsync();
        await _system.Terminate();
    }

    [Fact]
    public async Task Every_connection_is_dumped_in_pages_and_no_more_than_a_page_is_held_at_once()
    {
        var reply = await _control.HandleAsync("dpctl/dump-conntrack", [], CancellationToken.None);

        var lines = new List<string>();
        await foreach (var chunk in reply.Stream!.Chunks)
        {
            lines.AddRange(chunk.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.InRange(_control.ConntrackLinesHeldMax, 1, DatapathControl.ConntrackPage);
        }

        Assert.Equal(Connections, lines.Count);
        Assert.Equal(Connections, lines.Distinct().Count());
        Assert.All(lines, l => Assert.StartsWith("udp,orig=(src=10.", l, StringComparison.Ordinal));
        Assert.True(_control.ConntrackPagesAsked >= Connections / DatapathControl.ConntrackPage);
    }

    [Fact]
    public async Task A_dump_whose_client_left_after_two_pages_asks_for_no_third()
    {
        var reply = await _control.HandleAsync("dpctl/dump-conntrack", ["netdev@ovs-netdev", "zone=0"], CancellationToken.None);
        var chunks = reply.Stream!.Chunks.GetAsyncEnumerator();
        Assert.True(await chunks.MoveNextAsync());
        Assert.True(await chunks.MoveNextAsync());

        // What the connection does when its client is gone: the enumeration is disposed.
        await chunks.DisposeAsync();

        Assert.Equal(2, _control.ConntrackPagesAsked);
    }

    [Fact]
    public async Task A_zone_with_no_connections_dumps_nothing_and_a_bad_datapath_name_is_refused()
    {
        var reply = await _control.HandleAsync("dpctl/dump-conntrack", ["zone=9"], CancellationToken.None);
        Assert.Empty(await reply.Stream!.Chunks.ToListAsync());

        var e = await Assert.ThrowsAsync<ControlException>(() => _control.HandleAsync("dpctl/dump-conntrack", ["system@ovs-system"], CancellationToken.None));
        Assert.Contains("no such datapath \"system@ovs-system\"", e.Message, StringComparison.Ordinal);
    }

    private static ConntrackInput Udp(int i)
    {
        var key = new ConntrackKey
        {
            Src = 0x0A00_0000u + (uint)i + 1,
            Dst = 0x0A01_0001u,
            SrcPort = (ushort)(1024 + (i % 60_000)),
            DstPort = 53,
            Protocol = 17,
        };
        return new ConntrackInput { Key = key, ShardHash = ConntrackInputParser.ShardHashOf(in key), PayloadLength = 8 };
    }

    /// <summary>Stands for the sharding region: hands a shard its envelope's message.</summary>
    private sealed class Unwrapping : ReceiveActor
    {
        public Unwrapping(IActorRef shard) => Receive<ConntrackEnvelope>(e => shard.Forward(e.Message));
    }
}
