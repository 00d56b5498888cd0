using Datapath.Packets.Pcap;
using Traffic;

namespace Bench.Reference;

/// <summary>
/// The bench's UDP traffic as two captures for Open vSwitch with DPDK (its `net_pcap` ports loop
/// them from memory): <c>a2b_N.pcap</c>, one data frame per connection from the clients (port 1's
/// input), and <c>b2a_N.pcap</c>, one per connection from the server (port 2's input). The frames
/// are <see cref="EstablishedStreams"/>' own, byte for byte, so both datapaths see the same
/// addresses, ports, checksums and 64-byte length; behind a source NAT the server's frames address
/// the translated side, as our bench's do.
/// </summary>
internal static class ReferencePcaps
{
    /// <summary>The most connections a capture pair holds (80 bytes a frame on disk: 80 MB a capture).</summary>
    public const int MaxConnections = 1_000_000;

    /// <summary>The capture of the frames that enter on <paramref name="port"/>, as the reference tool names them.</summary>
    public static string FileName(uint port, int connections) =>
        (port == EstablishedStreams.ClientPort ? "a2b_" : "b2a_") + connections.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".pcap";

    /// <summary>Writes both captures into <paramref name="directory"/> (created if missing) and returns their paths.</summary>
    public static (string Clients, string Server) Write(string directory, int connections, uint? snatAddress)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(connections, MaxConnections);
        var streams = new EstablishedStreams(TrafficProtocol.Udp, connections, snatAddress);
        Directory.CreateDirectory(directory);
        string clients = Path.Combine(directory, FileName(EstablishedStreams.ClientPort, connections));
        string server = Path.Combine(directory, FileName(EstablishedStreams.ServerPort, connections));
        WriteSide(streams, EstablishedStreams.ClientPort, clients);
        WriteSide(streams, EstablishedStreams.ServerPort, server);
        return (clients, server);
    }

    private static void WriteSide(EstablishedStreams streams, uint port, string path)
    {
        using var writer = PcapWriter.Create(path);
        Span<byte> frame = stackalloc byte[FrameSizeRange.Minimum];
        for (int i = 0; i < streams.Connections; i++)
        {
            int length = streams.PeekData(port, i, frame);

            // One microsecond apart: net_pcap's infinite_rx ignores the timestamps, tcpdump shows the order.
            writer.Write(frame[..length], i * 1_000L);
        }
    }
}
