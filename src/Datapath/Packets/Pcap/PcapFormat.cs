namespace Datapath.Packets.Pcap;

/// <summary>Constants of the classic libpcap file format (not pcapng).</summary>
public static class PcapFormat
{
    public const uint MagicMicroseconds = 0xa1b2c3d4;
    public const uint MagicNanoseconds = 0xa1b23c4d;

    /// <summary>The first four bytes of a pcapng file (its Section Header Block type).</summary>
    public const uint PcapngMagic = 0x0a0d0d0a;

    public const ushort VersionMajor = 2;
    public const ushort VersionMinor = 4;

    /// <summary>LINKTYPE_ETHERNET (DLT_EN10MB), the only link type the datapath reads.</summary>
    public const uint LinkTypeEthernet = 1;

    public const int GlobalHeaderLength = 24;
    public const int RecordHeaderLength = 16;

    /// <summary>Snapshot length the writer declares (tcpdump's classic default).</summary>
    public const int DefaultSnapLength = 65535;

    /// <summary>
    /// Largest captured length accepted from a record. libpcap itself refuses records above
    /// 256 KiB (MAXIMUM_SNAPLEN), so anything larger is a corrupt length field, not a frame.
    /// </summary>
    public const int MaxCaptureLength = 256 * 1024;

    internal const long NanosecondsPerSecond = 1_000_000_000;
}
