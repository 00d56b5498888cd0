using Datapath.Flow;
using Datapath.Packets;
using Datapath.Tests.Actions;
using Datapath.Tests.Support;
using Traffic;

namespace Traffic.Tests;

public class TrafficGeneratorFrameTests
{
    private static readonly TrafficProfile Mixed = Defaults.TrafficProfile with
    {
        Connections = 200,
        TcpPercent = 60,
        UdpPercent = 30,
        IcmpPercent = 10,
        RequestsPerConnection = 3,
        ServerInitiatedPercent = 20,
        ResetPercent = 10,
        FrameSize = TrafficWire.EveryLength,
    };

    internal static List<ObservedFrame> Record(TrafficWire wire, int steps, List<byte[]>? raw = null)
    {
        var frames = new List<ObservedFrame>();
        wire.Filter = (_, packet) =>
        {
            frames.Add(ObservedFrame.Read(packet));
            raw?.Add(packet.Data.ToArray());
            return WireVerdict.Forward;
        };
        wire.Run(steps);
        return frames;
    }

    [Fact]
    public void Every_frame_extracts_without_a_malformed_reason_and_carries_valid_checksums()
    {
        var wire = new TrafficWire(Mixed);
        var raw = new List<byte[]>();
        var frames = Record(wire, 1500, raw);

        Assert.True(frames.Count > 20_000, $"only {frames.Count} frames");
        Assert.All(frames, f => Assert.Equal(0, f.Malformed));
        Assert.All(frames, f => Assert.True(f.ChecksumsValid));
        foreach (var frame in raw.Take(3000))
        {
            ChecksumAssert.AllValid(frame);
        }

        var stats = wire.Generator.Stats;
        foreach (var protocol in Enum.GetValues<TrafficProtocol>())
        {
            Assert.True(stats.Completed(protocol) > 0, $"no {protocol} connection completed");
        }

        Assert.Equal(0, stats.Ignored);
        Assert.Equal(0, stats.TotalTimedOut);
    }

    [Fact]
    public void Frames_come_from_the_host_behind_their_port()
    {
        var frames = Record(new TrafficWire(Mixed), 300);

        var client = new Ipv4Network(0x0A00_0000, 16);
        var server = new Ipv4Network(0x0A01_0000, 16);
        foreach (var f in frames)
        {
            var own = f.InPort == TrafficGenerator.ClientPort ? client : server;
            var peer = f.InPort == TrafficGenerator.ClientPort ? server : client;
            Assert.Equal(own.Address, f.Src & 0xFFFF_0000);
            Assert.Equal(peer.Address, f.Dst & 0xFFFF_0000);
        }

        Assert.Contains(frames, f => f.InPort == 1);
        Assert.Contains(frames, f => f.InPort == 2);
    }

    [Fact]
    public void Data_frames_draw_their_sizes_from_the_range_and_control_segments_are_minimum_frames()
    {
        var profile = Mixed with { FrameSize = new FrameSizeRange(100, 300), Mtu = 576 };
        var frames = Record(new TrafficWire(profile), 1000);

        var data = frames.Where(f => f.IsData).ToList();
        Assert.All(data, f => Assert.InRange(f.FrameLength, 100, 300));
        Assert.All(frames.Where(f => !f.IsData), f => Assert.Equal(64, f.FrameLength));
        Assert.All(frames, f => Assert.True(f.IpTotalLength <= 576));
        Assert.Contains(data, f => f.FrameLength <= 105);
        Assert.Contains(data, f => f.FrameLength >= 295);
        Assert.All(frames.Where(f => (f.TcpFlags & ObservedFrame.Syn) != 0), f => Assert.Equal(576 - 40, f.Mss));
    }

    [Fact]
    public void A_fixed_size_at_the_mtu_makes_every_data_frame_exactly_that_long()
    {
        var profile = Mixed with { FrameSize = FrameSizeRange.Fixed(1514), Mtu = 1500 };
        var frames = Record(new TrafficWire(profile), 500);

        Assert.All(frames.Where(f => f.IsData), f => Assert.Equal(1514, f.FrameLength));
        Assert.All(frames.Where(f => f.IsData), f => Assert.Equal(1500, f.IpTotalLength));
        Assert.All(frames.Where(f => (f.TcpFlags & ObservedFrame.Syn) != 0), f => Assert.Equal(1460, f.Mss));
        Assert.Contains(frames, f => f.Protocol == IpProtocols.Tcp && f.PayloadLength == 1460);
    }

    [Fact]
    public void The_protocol_mix_of_new_connections_matches_the_percentages()
    {
        var profile = Defaults.TrafficProfile with
        {
            Connections = 500,
            TcpPercent = 50,
            UdpPercent = 30,
            IcmpPercent = 20,
            RequestsPerConnection = 1,
            FrameSize = TrafficWire.EveryLength,
        };
        var frames = Record(new TrafficWire(profile), 4000);

        var connections = frames.Select(f => f.Connection).Distinct().ToList();
        double total = connections.Count;
        Assert.True(total > 10_000, $"only {total} connections");
        Assert.InRange(connections.Count(c => c.Item1 == IpProtocols.Tcp) / total, 0.48, 0.52);
        Assert.InRange(connections.Count(c => c.Item1 == IpProtocols.Udp) / total, 0.28, 0.32);
        Assert.InRange(connections.Count(c => c.Item1 == IpProtocols.Icmp) / total, 0.18, 0.22);
    }

    [Fact]
    public void The_same_seed_gives_the_same_frames_and_another_seed_other_frames()
    {
        static List<byte[]> Frames(ulong seed)
        {
            var raw = new List<byte[]>();
            Record(new TrafficWire(Mixed, seed), 400, raw);
            return raw;
        }

        var first = Frames(7);
        var again = Frames(7);
        var other = Frames(8);

        Assert.Equal(first.Count, again.Count);
        for (int i = 0; i < first.Count; i++)
        {
            Assert.True(first[i].AsSpan().SequenceEqual(again[i]), $"frame {i} differs");
        }

        Assert.Contains(Enumerable.Range(0, Math.Min(first.Count, other.Count)), i => !first[i].AsSpan().SequenceEqual(other[i]));
    }

    [Fact]
    public void Icmp_replies_mirror_the_identifier_sequence_and_payload_of_their_request()
    {
        var profile = Defaults.TrafficProfile with { Connections = 20, TcpPercent = 0, UdpPercent = 0, IcmpPercent = 100, RequestsPerConnection = 5, FrameSize = TrafficWire.EveryLength };
        var frames = Record(new TrafficWire(profile), 200);

        foreach (var connection in frames.GroupBy(f => f.Connection))
        {
            var list = connection.ToList();
            for (int i = 0; i < list.Count; i++)
            {
                var f = list[i];
                bool request = i % 2 == 0;
                Assert.Equal(request ? 8 : 0, f.IcmpType);
                Assert.Equal((ushort)((i / 2) + 1), f.IcmpSeq);
                if (!request)
                {
                    var q = list[i - 1];
                    Assert.Equal((q.Dst, q.Src, q.SrcPort, q.PayloadLength), (f.Src, f.Dst, f.SrcPort, f.PayloadLength));
                }
            }
        }

        Assert.True(frames.Count > 1000);
    }

    [Theory]
    [InlineData("Connections")]
    [InlineData("TcpPercent")]
    [InlineData("FrameSize")]
    [InlineData("Mtu")]
    [InlineData("ConnectionTimeout")]
    [InlineData("RequestsPerConnection")]
    [InlineData("ServerInitiatedPercent")]
    public void An_invalid_profile_is_refused_naming_the_property(string property)
    {
        var valid = Defaults.TrafficProfile with { FrameSize = TrafficWire.EveryLength };
        var bad = property switch
        {
            "Connections" => valid with { Connections = 0 },
            "TcpPercent" => valid with { TcpPercent = 90 },
            "FrameSize" => valid with { FrameSize = new FrameSizeRange(60, 100) },
            "Mtu" => valid with { Mtu = 40 },
            "ConnectionTimeout" => valid with { ConnectionTimeout = TimeSpan.Zero },
            "RequestsPerConnection" => valid with { RequestsPerConnection = 0 },
            _ => valid with { ServerInitiatedPercent = 101 },
        };

        var error = Assert.Throws<ArgumentException>(() => new TrafficGenerator(bad, 1));
        Assert.Contains($"TrafficProfile.{property} ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_network_is_parsed_from_prefix_notation()
    {
        var network = Ipv4Network.Parse("192.168.7.9/24");

        Assert.Equal(0xC0A8_0700u, network.Address);
        Assert.Equal(254, network.HostCount);
        Assert.Equal(0xC0A8_0701u, network.Host(0));
        Assert.Equal(0xC0A8_0701u, network.Host(254));
        Assert.Equal("192.168.7.0/24", network.ToString());
        Assert.Throws<FormatException>(() => Ipv4Network.Parse("192.168.7.9"));
    }

    [Fact]
    public void Frames_that_are_not_the_generators_own_are_ignored()
    {
        var generator = new TrafficGenerator(Mixed, 1);
        var pool = new PacketPool(64);
        var batch = new PacketBatch();
        generator.Fill(1, batch, pool, 0);
        int queuedAtServer = generator.Queued(2);

        // Back to the port it came from, and garbage: neither gets an answer.
        generator.OnTransmitted(1, batch[0], 0);
        generator.OnTransmitted(2, new byte[60], 0);
        generator.OnTransmitted(2, ReadOnlySpan<byte>.Empty, 0);

        Assert.Equal(3, generator.Stats.Ignored);
        Assert.Equal(queuedAtServer, generator.Queued(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => generator.Fill(3, batch, pool, 0));
    }
}
