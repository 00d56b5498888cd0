namespace Datapath.Packets.Pcap;

/// <summary>The header of one pcap record, as read by <see cref="PcapReader"/>.</summary>
/// <param name="RecordNumber">1-based position of the record in the file (tcpdump's frame number).</param>
/// <param name="Offset">Byte offset of the record header in the file.</param>
/// <param name="TimestampNs">Capture time in nanoseconds since the Unix epoch (microsecond files are scaled).</param>
/// <param name="CapturedLength">Bytes of the frame present in the file (caplen).</param>
/// <param name="OriginalLength">Length of the frame on the wire (origlen); larger than caplen when the capture truncated it.</param>
public readonly record struct PcapRecordHeader(
    long RecordNumber,
    long Offset,
    long TimestampNs,
    int CapturedLength,
    int OriginalLength);
