using Datapath.Flow;
using Datapath.Tests.Support;
using Traffic;

namespace Traffic.Tests;

public class TrafficGeneratorTcpTests
{
    private const byte Syn = ObservedFrame.Syn;
    private const byte Fin = ObservedFrame.Fin;
    private const byte Rst = ObservedFrame.Rst;
    private const byte Ack = ObservedFrame.Ack_;

    private static readonly TrafficProfile TcpOnly = Defaults.TrafficProfile with

    {
        Connections = 100,
        TcpPercent = 100,
        UdpPercent = 0,
        IcmpPercent = 0,
        RequestsPerConnection = 3,
        ServerInitiatedPercent = 30,
        ResetPercent = 20,
        FrameSize = TrafficWire.EveryLength,
    };

    [Fact]
    public void Every_connection_opens_with_a_three_way_handshake_before_any_data()
    {
        var frames = TrafficGeneratorFrameTests.Record(new TrafficWire(TcpOnly), 800);

        int checkedConnections = 0;
        foreach (var connection in frames.GroupBy(f => f.Connection).Where(g => g.Count() >= 4))
        {
            var list = connection.ToList();
            var (syn, synAck, ack) = (list[0], list[1], list[2]);
            Assert.Equal(Syn, syn.TcpFlags);
            Assert.Equal(Syn | Ack, synAck.TcpFlags);
            Assert.Equal(Ack, ack.TcpFlags);
            Assert.Equal(syn.Sender, (synAck.Dst, synAck.DstPort));
            Assert.Equal(syn.Sender, ack.Sender);
            Assert.Equal(syn.Seq + 1, synAck.Ack);
            Assert.Equal(syn.Seq + 1, ack.Seq);
            Assert.Equal(synAck.Seq + 1, ack.Ack);
            Assert.NotEqual(0, syn.Mss);
            Assert.NotEqual(0, synAck.Mss);
            Assert.All(list.Take(3), f => Assert.Equal(0, f.PayloadLength));
            Assert.True(list[3].PayloadLength > 0, "the first request follows the handshake");
            Assert.Equal(syn.Sender, list[3].Sender);
            checkedConnections++;
        }

        Assert.True(checkedConnections > 300, $"only {checkedConnections} connections");
    }

    [Fact]
    public void Sequence_and_acknowledgement_numbers_account_for_every_byte_both_ways()
    {
        var frames = TrafficGeneratorFrameTests.Record(new TrafficWire(TcpOnly), 800);

        long dataSegments = 0;
        foreach (var connection in frames.GroupBy(f => f.Connection))
        {
            // Next sequence number each sender will use, learned from what it sent.
            var next = new Dictionary<(uint, ushort), uint>();
            foreach (var f in connection)
            {
                var receiver = (f.Dst, f.DstPort);
                if (next.TryGetValue(f.Sender, out uint expected))
                {
                    Assert.Equal(expected, f.Seq);
                }

                if ((f.TcpFlags & Ack) != 0)
                {
                    // Lockstep: whatever the peer sent has arrived before this segment left.
                    Assert.Equal(next[receiver], f.Ack);
                }

                uint length = (uint)f.PayloadLength + ((f.TcpFlags & Syn) != 0 ? 1u : 0) + ((f.TcpFlags & Fin) != 0 ? 1u : 0);
                next[f.Sender] = f.Seq + length;
                Assert.Equal(65535, f.Window);
                dataSegments += f.PayloadLength > 0 ? 1 : 0;
            }
        }

        Assert.True(dataSegments > 1000);
    }

    [Fact]
    public void Connections_close_with_fin_from_either_side_or_with_a_reset()
    {
        var wire = new TrafficWire(TcpOnly);
        var frames = TrafficGeneratorFrameTests.Record(wire, 800);

        int initiatorFirst = 0;
        int responderFirst = 0;
        int resets = 0;
        foreach (var connection in frames.GroupBy(f => f.Connection))
        {
            var list = connection.ToList();
            var initiator = list[0].Sender;
            int firstFin = list.FindIndex(f => (f.TcpFlags & Fin) != 0);
            int rst = list.FindIndex(f => (f.TcpFlags & Rst) != 0);
            if (rst >= 0)
            {
                Assert.Equal(-1, firstFin);
                Assert.Equal(list.Count - 1, rst);
                Assert.Equal(Rst | Ack, list[rst].TcpFlags);
                resets++;
            }
            else if (firstFin >= 0 && list.Count == firstFin + 3)
            {
                // FIN|ACK, the peer's FIN|ACK, the last ACK: nothing after.
                Assert.Equal(Fin | Ack, list[firstFin].TcpFlags);
                Assert.Equal(Fin | Ack, list[firstFin + 1].TcpFlags);
                Assert.Equal(Ack, list[firstFin + 2].TcpFlags);
                Assert.NotEqual(list[firstFin].Sender, list[firstFin + 1].Sender);
                Assert.Equal(list[firstFin].Sender, list[firstFin + 2].Sender);
                Assert.Equal(3, list.Count(f => f.PayloadLength > 0 && f.Sender == initiator));
                if (list[firstFin].Sender == initiator)
                {
                    initiatorFirst++;
                }
                else
                {
                    responderFirst++;
                }
            }
        }

        var stats = wire.Generator.Stats;
        Assert.True(initiatorFirst > 50 && responderFirst > 50 && resets > 20, $"{initiatorFirst} / {responderFirst} / {resets}");
        Assert.Equal(stats.Reset(TrafficProtocol.Tcp), resets);
        Assert.Equal(stats.Completed(TrafficProtocol.Tcp), initiatorFirst + responderFirst + resets);
    }

    [Fact]
    public void Server_initiated_connections_run_from_port_two_to_the_client_side()
    {
        var frames = TrafficGeneratorFrameTests.Record(new TrafficWire(TcpOnly), 800);

        var opening = frames.Where(f => f.TcpFlags == Syn).ToList();
        double fromServer = opening.Count(f => f.InPort == TrafficGenerator.ServerPort) / (double)opening.Count;
        Assert.InRange(fromServer, 0.25, 0.35);
        Assert.All(opening, f => Assert.Equal(TcpOnly.TcpServicePort, f.DstPort));
        Assert.All(opening, f => Assert.True(f.SrcPort >= TrafficGenerator.FirstEphemeralPort));
        Assert.All(frames, f => Assert.Equal(IpProtocols.Tcp, f.Protocol));
    }
}
