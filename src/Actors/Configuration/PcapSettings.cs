using Actors.Ports;

namespace Actors.Configuration;

/// <summary>The validated `datapath.pcap` section: the main job's pcap ports.</summary>
public sealed record PcapSettings(string RxPath, string? TxPort1, string? TxPort2, bool Loop)
{
    private const string Section = "datapath.pcap";

    internal static PcapSettings From(SettingReader reader)
    {
        string rx = reader.Text(Section + ".rx");
        if (rx.Length == 0)
        {
            throw new ConfigurationException(reader.Source, Section + ".rx", "ports = pcap needs the capture to read");
        }

        return new PcapSettings(rx, Optional(reader.Text(Section + ".tx-port1")), Optional(reader.Text(Section + ".tx-port2")), reader.Bool(Section + ".loop"));
    }

    /// <summary>The pcap port actor's settings; frames enter ports 1 and 2 by source MAC.</summary>
    public PcapPortSettings PortSettings(int queuesPerPort, int window)
    {
        var tx = new Dictionary<uint, string>();
        if (TxPort1 is not null)
        {
            tx[1] = TxPort1;
        }

        if (TxPort2 is not null)
        {
            tx[2] = TxPort2;
        }

        return new PcapPortSettings { RxPath = RxPath, TxPaths = tx, Loop = Loop, QueuesPerPort = queuesPerPort, Window = window };
    }

    private static string? Optional(string path) => path.Length == 0 ? null : path;
}
