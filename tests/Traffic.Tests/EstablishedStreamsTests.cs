using System.Buffers.Binary;
using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Tests.Support;
using Traffic;

namespace Traffic.Tests;

public class EstablishedStreamsTests
{
    private static readonly ConntrackArgs Commit = new() { Zone = 0, Commit = true };

    [Theory]
    [InlineData(TrafficProtocol.Udp)]
    [InlineData(TrafficProtocol.Tcp)]
    public void Conntrack_sees_each_handshake_open_the_connection_and_every_data_frame_established_never_invalid(TrafficProtocol protocol)
    {
        const int connections = 40;
        var streams = new EstablishedStreams(protocol, connections);
        var table = new ConnectionTable(Defaults.ConntrackOptions);
        var packet = new Packet();
        for (int step = 0; step < streams.HandshakeSteps; step++)
        {
            uint port = EstablishedStreams.HandshakePort(step);
            for (int c = 0; c < connections; c++)
            {
                streams.WriteHandshake(step, c, packet);
                var expected = step switch
                {
                    0 => CtState.New | CtState.Tracked,
                    1 => CtState.Established | CtState.Reply | CtState.Tracked,
                    _ => CtState.Established | CtState.Tracked,
                };
                Assert.Equal(expected, Track(table, packet, port));
            }
        }

        // Uneven turns: one side runs ahead by many frames of one connection, as a busy PMD lets it.
        for (int round = 0; round < 30; round++)
        {
            for (int c = 0; c < connections; c++)
            {
                for (int i = 0; i < 1 + (round % 7); i++)
                {
                    streams.WriteData(EstablishedStreams.ClientPort, c, packet);
                    Assert.Equal(CtState.Established | CtState.Tracked, Track(table, packet, EstablishedStreams.ClientPort));
                }

                streams.WriteData(EstablishedStreams.ServerPort, c, packet);
                Assert.Equal(CtState.Established | CtState.Reply | CtState.Tracked, Track(table, packet, EstablishedStreams.ServerPort));
            }
        }

        Assert.Equal(connections, table.Stats[ConntrackCounter.Created]);
        Assert.Equal(0, table.Stats.Invalid);
    }

    [Theory]
    [InlineData(TrafficProtocol.Udp)]
    [InlineData(TrafficProtocol.Tcp)]
    public void Every_frame_is_64_bytes_with_valid_checksums_and_its_own_client_address(TrafficProtocol protocol)
    {
        var streams = new EstablishedStreams(protocol, 70_000);
        var packet = new Packet();
        var clients = new HashSet<uint>();
        foreach (int c in new[] { 0, 1, 255, 256, 65_535, 65_536, 69_999 })
        {
            foreach (uint port in new[] { EstablishedStreams.ClientPort, EstablishedStreams.ServerPort })
            {
                for (int i = 0; i < 3; i++)
                {
                    streams.WriteData(port, c, packet);
                    Assert.Equal(64, packet.Length);
                    Assert.Equal(port, packet.Metadata.InPort);
                    var key = default(FlowKey);
                    FlowExtractor.Extract(packet, ref key, new ExtractionStats());
                    Assert.True(Checksum.IsIpv4HeaderValid(packet.Data.Slice(14, 20)));
                    Assert.True(ConntrackInput.TryParse(packet, in key, 0, out var input), input.InvalidReason.ToString());
                    uint client = port == EstablishedStreams.ClientPort ? key.NwSrc : key.NwDst;
                    Assert.Equal(EstablishedStreams.FirstClientIp + (uint)c, client);
                    clients.Add(client);
                }
            }
        }

        Assert.Equal(7, clients.Count);
    }

    [Fact]
    public void Peeking_writes_the_next_data_frame_without_using_up_its_sequence_numbers()
    {
        var streams = new EstablishedStreams(TrafficProtocol.Tcp, 5);
        var peeked = new byte[64];
        var packet = new Packet();

        int length = streams.PeekData(EstablishedStreams.ServerPort, 3, peeked);
        streams.WriteData(EstablishedStreams.ServerPort, 3, packet);
        Assert.Equal(peeked.AsSpan(0, length).ToArray(), packet.Data.ToArray());

        streams.WriteData(EstablishedStreams.ServerPort, 3, packet);
        uint first = BinaryPrimitives.ReadUInt32BigEndian(peeked.AsSpan(38));
        uint second = BinaryPrimitives.ReadUInt32BigEndian(packet.Data[38..]);
        Assert.Equal(first + 10, second);
    }

    [Fact]
    public void Only_udp_and_tcp_streams_exist()
    {
        Assert.Throws<ArgumentException>(() => new EstablishedStreams(TrafficProtocol.Icmp, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EstablishedStreams(TrafficProtocol.Udp, 0));
    }

    [Theory]
    [InlineData(TrafficProtocol.Udp)]
    [InlineData(TrafficProtocol.Tcp)]
    public void Behind_a_source_NAT_each_client_keeps_its_own_port_and_the_server_answers_the_translated_side(TrafficProtocol protocol)
    {
        const int connections = 30;
        const uint nat = 0xC0_00_02_64;
        var streams = new EstablishedStreams(protocol, connections, nat);
        var table = new ConnectionTable(Defaults.ConntrackOptions);
        var snat = new ConntrackArgs { Commit = true, Nat = new NatArgs { Kind = NatKind.Source, HasAddress = true, MinAddress = nat, MaxAddress = nat } };
        var existing = new ConntrackArgs { Nat = NatArgs.Existing };
        var packet = new Packet();
        for (int step = 0; step < streams.HandshakeSteps; step++)
        {
            uint port = EstablishedStreams.HandshakePort(step);
            for (int c = 0; c < connections; c++)
            {
                streams.WriteHandshake(step, c, packet);
                var result = Execute(table, packet, step == 0 ? snat : existing);
                Assert.False(result.State.HasFlag(CtState.Invalid));
                if (step == 0)
                {
                    // nat(src=ADDRESS) without a range keeps the client's own port.
                    Assert.Equal((ushort)(EstablishedStreams.ClientL4Port + c), result.Nat.SrcPort);
                }
                else if (port == EstablishedStreams.ServerPort)
                {
                    Assert.Equal(CtState.Established | CtState.Reply | CtState.Tracked | CtState.DstNat, result.State);
                }
            }
        }

        for (int c = 0; c < connections; c++)
        {
            streams.WriteData(EstablishedStreams.ServerPort, c, packet);
            Assert.Equal(nat, BinaryPrimitives.ReadUInt32BigEndian(packet.Data[30..]));
            Assert.Equal(CtState.Established | CtState.Reply | CtState.Tracked | CtState.DstNat, Execute(table, packet, existing).State);
            streams.WriteData(EstablishedStreams.ClientPort, c, packet);
            Assert.Equal(CtState.Established | CtState.Tracked | CtState.SrcNat, Execute(table, packet, existing).State);
        }

        Assert.Equal(connections, table.Count);
        Assert.Equal(0, table.Stats[ConntrackCounter.NatExhausted]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new EstablishedStreams(protocol, EstablishedStreams.MaxSnatConnections + 1, nat));
    }

    private static ConntrackResult Execute(ConnectionTable table, Packet packet, in ConntrackArgs args)
    {
        var key = default(FlowKey);
        FlowExtractor.Extract(packet, ref key, new ExtractionStats());

        // The parser checks every checksum: a frame the streams wrote wrongly is invalid here.
        Assert.True(ConntrackInput.TryParse(packet, in key, 0, out var input), input.InvalidReason.ToString());
        return table.Execute(in input, in args, 1000);
    }

    private static CtState Track(ConnectionTable table, Packet packet, uint port)
    {
        Assert.Equal(port, packet.Metadata.InPort);
        var key = default(FlowKey);
        FlowExtractor.Extract(packet, ref key, new ExtractionStats());
        Assert.True(ConntrackInput.TryParse(packet, in key, 0, out var input), input.InvalidReason.ToString());
        return table.Execute(in input, in Commit, 1000).State;
    }
}
