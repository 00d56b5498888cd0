using Actors.Ports;
using Datapath.Packets;
using Traffic;

namespace Actors.Tests.Ports;

/// <summary>
/// Captures made by the bench's traffic model (<see cref="EstablishedStreams"/>) instead of read
/// from a file: as many frames as a test needs, more than any port pool holds.
/// </summary>
internal static class GeneratedCapture
{
    /// <summary>
    /// <paramref name="frames"/> frames of <paramref name="connections"/> UDP connections: each
    /// connection's request (port 1) and reply (port 2), then data in both directions, the ports
    /// taking turns; one millisecond apart. Behind the firewall every frame is forwarded, except
    /// those of the last <paramref name="strangers"/> connections: only their server (port 2)
    /// sends, so each of their frames opens a connection from outside and is dropped.
    /// </summary>
    public static List<ReplayFrame> EstablishedUdp(int connections, int frames, int strangers = 0)
    {
        var streams = new EstablishedStreams(TrafficProtocol.Udp, connections);
        int established = connections - strangers;
        var packet = new Packet();
        var capture = new List<ReplayFrame>(frames);
        for (int step = 0; step < streams.HandshakeSteps; step++)
        {
            for (int c = 0; c < established && capture.Count < frames; c++)
            {
                streams.WriteHandshake(step, c, packet);
                Add(capture, packet);
            }
        }

        for (int i = 0; capture.Count < frames; i++)
        {
            int c = (i / 2) % connections;
            uint port = i % 2 == 0 && c < established ? EstablishedStreams.ClientPort : EstablishedStreams.ServerPort;
            streams.WriteData(port, c, packet);
            Add(capture, packet);
        }

        return capture;
    }

    private static void Add(List<ReplayFrame> capture, Packet packet)
    {
        long number = capture.Count + 1;
        capture.Add(new ReplayFrame(number, packet.Metadata.InPort, packet.Data.ToArray(), number));
    }
}
