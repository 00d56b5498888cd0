using Datapath.Packets.Pcap;

namespace Host.Commands;

/// <summary>
/// `replay --tx-pcap-dir DIR`: what left port 1 and port 2, in order, as DIR/port1.pcap and
/// DIR/port2.pcap (classic pcap, microseconds, each frame stamped with the time of the input frame
/// that caused it, as Open vSwitch's replay oracle writes them). Frames for other ports are ignored.
/// </summary>
internal sealed class TransmitCapture : IDisposable
{
    private readonly PcapWriter[] _ports;

    private TransmitCapture(PcapWriter[] ports) => _ports = ports;

    public static TransmitCapture Open(DirectoryInfo directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        directory.Create();
        var port1 = PcapWriter.Create(Path.Combine(directory.FullName, "port1.pcap"));
        try
        {
            return new TransmitCapture([port1, PcapWriter.Create(Path.Combine(directory.FullName, "port2.pcap"))]);
        }
        catch
        {
            port1.Dispose();
            throw;
        }
    }

    public void Write(uint port, ReadOnlySpan<byte> frame, long timestampNs)
    {
        if (port is 1 or 2)
        {
            _ports[port - 1].Write(frame, timestampNs);
        }
    }

    public void Dispose()
    {
        foreach (var writer in _ports)
        {
            writer.Dispose();
        }
    }
}
