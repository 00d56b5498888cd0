using System.Globalization;
using System.Text;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Pipeline;

namespace Datapath.Replay;

/// <summary>Sees one frame a port sent, stamped with the capture time of the input frame that caused it.</summary>
public delegate void TransmitObserver(uint port, ReadOnlySpan<byte> frame, long timestampNs);

/// <summary>
/// Replays a capture through a datapath in capture order, each frame finished before the next,
/// with the datapath clock following the capture's timestamps (what Open vSwitch's replays get
/// with --time-warp: conntrack timeouts and fragment expiry follow capture time; the clock never
/// goes back, so a frame stamped earlier than the one before runs at that one's time), and writes one verdict line per
/// frame: `N IN_PORT -> OUT_PORTS` (one port per transmitted packet, so a frame that releases held
/// fragments lists several) or `N IN_PORT -> drop`, as captures/expected/*.verdict.
/// </summary>
public sealed class VerdictReplay(InlineDatapath datapath, ReplayPorts? ports = null)
{
    private readonly ReplayPorts _ports = ports ?? ReplayPorts.Default;

    /// <summary>Frames whose source MAC is neither port's host: reported as skipped, not replayed.</summary>
    public long Skipped { get; private set; }

    /// <summary>Told of every frame the datapath sends, with the bytes as they left (NAT and other rewrites included).</summary>
    public TransmitObserver? OnTransmit { get; init; }

    /// <summary>The capture clock after the last frame (ms): "now" for a dump of the connection table.</summary>
    public long ClockMs { get; private set; }

    /// <summary>Replays every frame of <paramref name="reader"/>, writing a verdict line for each.</summary>
    /// <returns>The number of frames replayed.</returns>
    public long Run(PcapReader reader, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(output);
        var batch = new PacketBatch();
        var sink = new RecordingSink(OnTransmit);
        var line = new StringBuilder();
        long frames = 0;
        while (reader.TryReadNext(out var header))
        {
            frames++;
            uint port = _ports.PortOf(reader.CurrentFrame);
            sink.Ports.Clear();
            if (port == 0)
            {
                Skipped++;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{header.RecordNumber} - -> skipped"));
                continue;
            }

            // The datapath's clock follows the capture and never goes back: a frame stamped before
            // its predecessor is processed at the predecessor's time (the actor replay does the same).
            ClockMs = Math.Max(ClockMs, header.TimestampNs / 1_000_000);
            sink.TimestampNs = header.TimestampNs;
            if (datapath.TryReceive(reader.CurrentFrame, port, out var packet))
            {
                batch.Add(packet);
                datapath.Process(batch, ClockMs, sink);
            }

            line.Clear();
            line.Append(CultureInfo.InvariantCulture, $"{header.RecordNumber} {port} -> ");
            if (sink.Ports.Count == 0)
            {
                line.Append("drop");
            }
            else
            {
                line.AppendJoin(',', sink.Ports);
            }

            output.WriteLine(line.ToString());
        }

        return frames;
    }

    private sealed class RecordingSink(TransmitObserver? observer) : IPacketSink
    {
        public List<uint> Ports { get; } = [];

        public long TimestampNs { get; set; }

        public void Transmit(uint port, Packet packet)
        {
            Ports.Add(port);
            observer?.Invoke(port, packet.Data, TimestampNs);
        }
    }
}
