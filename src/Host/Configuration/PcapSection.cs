using Actors.Ports;

namespace Host.Configuration;

/// <summary>Reads `datapath.pcap` (when `ports = pcap`): the main job's pcap ports, frames entering ports 1 and 2 by source MAC.</summary>
internal static class PcapSection
{
    private const string Section = "datapath.pcap";

    public static PcapPortSettings Read(SettingReader reader, int queuesPerPort, int window)
    {
        string rx = reader.Text(Section + ".rx");
        if (rx.Length == 0)
        {
            throw reader.Error(Section + ".rx", "ports = pcap needs the capture to read");
        }

        var tx = new Dictionary<uint, string>();
        if (reader.Text(Section + ".tx-port1") is { Length: > 0 } tx1)
        {
            tx[1] = tx1;
        }

        if (reader.Text(Section + ".tx-port2") is { Length: > 0 } tx2)
        {
            tx[2] = tx2;
        }

        return new PcapPortSettings { RxPath = rx, TxPaths = tx, Loop = reader.Bool(Section + ".loop"), QueuesPerPort = queuesPerPort, Window = window };
    }
}
