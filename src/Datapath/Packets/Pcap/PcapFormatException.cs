namespace Datapath.Packets.Pcap;

/// <summary>
/// A pcap file that cannot be read. The message names the file, the byte offset and what is wrong;
/// the same facts are available as properties for callers that report them differently.
/// </summary>
public sealed class PcapFormatException : Exception
{
    public PcapFormatException()
        : this("invalid pcap file")
    {
    }

    public PcapFormatException(string message)
        : base(message)
    {
        FileName = string.Empty;
        Offset = -1;
    }

    public PcapFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        FileName = string.Empty;
        Offset = -1;
    }

    /// <summary>Creates the exception with a message of the form "FILE: byte offset N: PROBLEM".</summary>
    public PcapFormatException(string fileName, long offset, string problem)
        : base($"{fileName}: byte offset {offset}: {problem}")
    {
        FileName = fileName;
        Offset = offset;
        Problem = problem;
    }

    /// <summary>Creates the exception for one record: "FILE: record R at byte offset N: PROBLEM".</summary>
    public PcapFormatException(string fileName, long recordNumber, long offset, string problem)
        : base($"{fileName}: record {recordNumber} at byte offset {offset}: {problem}")
    {
        FileName = fileName;
        RecordNumber = recordNumber;
        Offset = offset;
        Problem = problem;
    }

    /// <summary>The file name given to the reader.</summary>
    public string FileName { get; }

    /// <summary>Byte offset of the faulty field or record header, -1 when unknown.</summary>
    public long Offset { get; }

    /// <summary>1-based number of the faulty record, 0 when the global header is at fault.</summary>
    public long RecordNumber { get; }

    /// <summary>What is wrong, without the file name and offset.</summary>
    public string Problem { get; } = string.Empty;
}
