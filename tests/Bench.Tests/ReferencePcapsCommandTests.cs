using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Bench.Firewall;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Translation;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Pipeline;
using Datapath.Tests.Support;
using Host.Tests.Support;
using TestSupport.Frames;

namespace Bench.Tests;

/// <summary>
/// The captures Open vSwitch with DPDK is given (reference-pcaps): one UDP frame per connection
/// and direction, addressed as our bench addresses them (behind the SNAT: the server answers the
/// translated side), with valid checksums; and our own datapath, running the same flow table,
/// forwards every frame of them both ways.
/// </summary>
public sealed partial class ReferencePcapsCommandTests
{
    private const int Connections = 40;
    private static readonly uint FirstClient = Ip("10.0.0.1");
    private static readonly uint Server = Ip("172.16.0.1");

    [Fact]
    public void Behind_the_snat_the_server_frames_address_the_translated_side_and_every_checksum_is_valid()
    {
        using var scratch = new ScratchDirectory();
        var (clients, server) = Write(scratch.Path, "--nat", "snat");

        Assert.Equal(Connections, clients.Count);
        Assert.Equal(Connections, server.Count);
        for (int i = 0; i < Connections; i++)
        {
            // Each client its own port, so the translation keeps it (bench --nat snat's traffic).
            ushort clientPort = (ushort)(10000 + i);
            AssertUdp(clients[i], FirstClient + (uint)i, clientPort, Server, 5000);
            AssertUdp(server[i], Server, 5000, NatFirewall.SnatAddress, clientPort);
        }
    }

    [Fact]
    public void Without_nat_the_server_answers_each_client_itself()
    {
        using var scratch = new ScratchDirectory();
        var (clients, server) = Write(scratch.Path);

        for (int i = 0; i < Connections; i++)
        {
            AssertUdp(clients[i], FirstClient + (uint)i, 10000, Server, 5000);
            AssertUdp(server[i], Server, 5000, FirstClient + (uint)i, 10000);
        }
    }

    [Fact]
    public void Our_snat_firewall_forwards_every_frame_of_the_captures_translated_and_back()
    {
        using var scratch = new ScratchDirectory();
        var (clients, server) = Write(scratch.Path, "--nat", "snat");
        var datapath = SnatFirewall();

        // Before any client spoke, the server's frames are no connection's replies: dropped.
        Assert.All(server, frame => Assert.Empty(Send(datapath, 2, frame)));

        for (int i = 0; i < Connections; i++)
        {
            var sent = Assert.Single(Send(datapath, 1, clients[i]));
            Assert.Equal(2u, sent.Port);
            AssertUdp(sent.Frame, NatFirewall.SnatAddress, (ushort)(10000 + i), Server, 5000);
        }

        for (int i = 0; i < Connections; i++)
        {
            var sent = Assert.Single(Send(datapath, 2, server[i]));
            Assert.Equal(1u, sent.Port);
            AssertUdp(sent.Frame, Server, 5000, FirstClient + (uint)i, (ushort)(10000 + i));
        }
    }

    [Fact]
    public void The_flow_table_translates_to_the_address_the_traffic_answers()
    {
        var match = NatTarget().Match(NatFirewall.Flows);

        Assert.True(match.Success, NatFirewall.Flows);
        Assert.Equal(NatFirewall.SnatAddress, Ip(match.Groups[1].Value));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1000001")]
    public void Out_of_range_connection_counts_are_refused(string connections)
    {
        using var scratch = new ScratchDirectory();
        var (exit, output, error) = Invoke("reference-pcaps", "--connections", connections, "--out", scratch.Path);

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.StartsWith("reference-pcaps: ", error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(scratch.Path));
    }

    [Fact]
    public void Behind_the_snat_no_more_connections_than_client_ports_are_written()
    {
        using var scratch = new ScratchDirectory();
        var (exit, _, error) = Invoke("reference-pcaps", "--nat", "snat", "--connections", "60000", "--out", scratch.Path);

        Assert.Equal(2, exit);
        Assert.Contains("--nat", error, StringComparison.Ordinal);
    }

    private static (List<byte[]> Clients, List<byte[]> Server) Write(string directory, params string[] extra)
    {
        var (exit, output, error) = Invoke(["reference-pcaps", "--connections", Connections.ToString(CultureInfo.InvariantCulture), "--out", directory, .. extra]);
        Assert.True(exit == 0, error);
        var paths = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([Path.Combine(directory, $"a2b_{Connections}.pcap"), Path.Combine(directory, $"b2a_{Connections}.pcap")], paths);
        return (Read(paths[0]), Read(paths[1]));
    }

    private static List<byte[]> Read(string path)
    {
        using var reader = PcapReader.Open(path);
        var frames = new List<byte[]>();
        while (reader.TryReadNext(out _))
        {
            frames.Add(reader.CurrentFrame.ToArray());
        }

        return frames;
    }

    /// <summary>A 64-byte Ethernet/IPv4/UDP frame between the given endpoints, both checksums right (and the UDP one present).</summary>
    private static void AssertUdp(byte[] frame, uint src, ushort srcPort, uint dst, ushort dstPort)
    {
        Assert.Equal(64, frame.Length);
        Assert.Equal(0x0800, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)));
        Assert.Equal(17, frame[23]);
        Assert.Equal(
            (src, srcPort, dst, dstPort),
            (BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(26)), BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(34)),
             BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(30)), BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(36))));
        Assert.True(InternetChecksum.IsIpv4HeaderValid(frame), "IPv4 header checksum");
        Assert.NotEqual(0, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(40)));
        Assert.True(InternetChecksum.IsIpv4TransportValid(frame), "UDP checksum");
    }

    private static InlineDatapath SnatFirewall()
    {
        var tables = new OpenFlowTables();
        tables.AddFlows(NatFirewall.Flows, "flows_ct_snat.txt");
        return new InlineDatapath(new Translator(tables, new RecircRegistry(), [1, 2]), Defaults.PmdCoreOptions, new Datapath.Conntrack.ConnectionTable(Defaults.ConntrackOptions));
    }

    private static List<(uint Port, byte[] Frame)> Send(InlineDatapath datapath, uint port, byte[] frame)
    {
        var sink = new RecordingSink();
        var batch = new PacketBatch();
        Assert.True(datapath.TryReceive(frame, port, out var packet));
        batch.Add(packet);
        datapath.Process(batch, 1, sink);
        return sink.Sent;
    }

    private static uint Ip(string address) => BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(address).GetAddressBytes());

    private static (int Exit, string Output, string Error) Invoke(params string[] args) => BenchCli.Invoke(args);

    [GeneratedRegex(@"nat\(src=([0-9.]+)\)")]
    private static partial Regex NatTarget();

    private sealed class RecordingSink : IPacketSink
    {
        public List<(uint Port, byte[] Frame)> Sent { get; } = [];

        public void Transmit(uint port, Packet packet) => Sent.Add((port, packet.Data.ToArray()));
    }
}
