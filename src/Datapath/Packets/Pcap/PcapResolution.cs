namespace Datapath.Packets.Pcap;

/// <summary>Timestamp resolution of a classic pcap file, chosen by its magic number.</summary>
public enum PcapResolution
{
    /// <summary>Magic 0xa1b2c3d4: the fractional part counts microseconds.</summary>
    Microseconds,

    /// <summary>Magic 0xa1b23c4d: the fractional part counts nanoseconds.</summary>
    Nanoseconds,
}
