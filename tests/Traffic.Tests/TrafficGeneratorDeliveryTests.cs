using Datapath.Packets;
using Datapath.Tests.Support;
using Traffic;

namespace Traffic.Tests;

/// <summary>Hosts answer only what was delivered; what the datapath drops times out and is replaced.</summary>
public class TrafficGeneratorDeliveryTests
{
    private static readonly TrafficProfile Profile = Defaults.TrafficProfile with
    {
        Connections = 100,
        TcpPercent = 60,
        UdpPercent = 30,
        IcmpPercent = 10,
        RequestsPerConnection = 2,
        ConnectionTimeout = TimeSpan.FromMilliseconds(5),
        FrameSize = TrafficWire.EveryLength,
    };

    [Fact]
    public void The_server_side_never_sends_when_nothing_from_the_client_side_is_delivered()
    {
        var wire = new TrafficWire(Profile) { Filter = (port, _) => port == 1 ? WireVerdict.Drop : WireVerdict.Forward };
        var stats = wire.Generator.Stats;

        wire.Run(490);
        Assert.Equal(0, stats.TotalTimedOut);

        wire.Run(2000);

        Assert.Equal(0, stats.FramesGenerated(TrafficGenerator.ServerPort));
        Assert.Equal(0, stats.RepliesSent);
        Assert.Equal(0, stats.TotalCompleted);
        Assert.True(stats.TotalTimedOut >= 4 * Profile.Connections, $"{stats.TotalTimedOut} timed out");
        Assert.Equal(stats.TotalOpened, stats.TotalTimedOut + Profile.Connections);
        Assert.Equal(wire.Dropped, stats.FramesGenerated(TrafficGenerator.ClientPort));
        Assert.Equal(Profile.Connections, wire.Generator.ActiveConnections);
    }

    [Fact]
    public void A_connection_times_out_after_the_configured_idle_time_not_before()
    {
        var wire = new TrafficWire(Profile) { Filter = (_, _) => WireVerdict.Drop };
        var stats = wire.Generator.Stats;

        // All openings leave within the first 4 steps (32 per batch); the timeout is 5 ms = 500 steps.
        wire.Run(495);
        Assert.Equal(0, stats.TotalTimedOut);
        wire.Run(10);
        Assert.Equal(Profile.Connections, stats.TotalTimedOut);
    }

    [Fact]
    public void Behind_a_stateful_firewall_server_initiated_connections_get_no_answer_and_time_out()
    {
        var profile = Profile with { ServerInitiatedPercent = 30 };
        var wire = new TrafficWire(profile);
        var openedFrom = new Dictionary<(byte, ulong, ulong), uint>();
        long clientAnswersToServer = 0;
        long allowed = 0;
        wire.Filter = (port, packet) =>
        {
            // The firewall of DESIGN.md: port 1 may open connections, port 2 may only answer.
            var f = ObservedFrame.Read(packet);
            openedFrom.TryAdd(f.Connection, port);
            if (openedFrom[f.Connection] == 2)
            {
                clientAnswersToServer += port == 1 ? 1 : 0;
                return WireVerdict.Drop;
            }

            allowed++;
            return WireVerdict.Forward;
        };
        var stats = wire.Generator.Stats;

        for (int i = 0; i < 40; i++)
        {
            wire.Run(100);
            Assert.Equal(profile.Connections, wire.Generator.ActiveConnections);
            Assert.Equal(stats.TotalOpened, stats.TotalCompleted + stats.TotalTimedOut + profile.Connections);
        }

        long fromServer = openedFrom.Values.Count(p => p == 2);
        Assert.Equal(0, clientAnswersToServer);
        Assert.True(stats.TotalTimedOut > 100, $"{stats.TotalTimedOut} timed out");
        Assert.InRange(stats.TotalTimedOut, fromServer - profile.Connections, fromServer);
        Assert.True(stats.TotalCompleted > 1000, $"{stats.TotalCompleted} completed");
        Assert.Equal(allowed, stats.FramesDelivered(1) + stats.FramesDelivered(2));
        Assert.Equal(0, stats.Ignored);
    }

    [Fact]
    public void A_request_delivered_late_is_answered_only_once_it_arrives()
    {
        var profile = Defaults.TrafficProfile with { Connections = 1, TcpPercent = 0, UdpPercent = 100, IcmpPercent = 0, FrameSize = TrafficWire.EveryLength };
        var generator = new TrafficGenerator(profile, 3);
        var pool = new PacketPool(8);
        var batch = new PacketBatch();

        Assert.Equal(1, generator.Fill(1, batch, pool, 0));
        var request = batch[0];
        batch.Clear();
        Assert.Equal(0, generator.Fill(2, batch, pool, 1000));
        Assert.Equal(0, generator.Fill(2, batch, pool, 2000));

        generator.OnTransmitted(2, request, 3000);

        Assert.Equal(1, generator.Fill(2, batch, pool, 4000));
        var response = ObservedFrame.Read(batch[0]);
        var sent = ObservedFrame.Read(request);
        Assert.Equal((sent.Dst, sent.DstPort, sent.Src, sent.SrcPort), (response.Src, response.SrcPort, response.Dst, response.DstPort));
        Assert.Equal(1, generator.Stats.RepliesSent);
    }
}
