using System.Buffers.Binary;

namespace Datapath.Packets.Pcap;

/// <summary>
/// Reads a classic libpcap file (either byte order, microsecond or nanosecond timestamps,
/// Ethernet link type only) one record at a time. After construction, reading a record
/// allocates nothing: every frame lands in one reused buffer that grows only for a frame
/// larger than any before it. Any malformed input raises <see cref="PcapFormatException"/>
/// naming the file, the byte offset and the problem; a clean end of file ends the iteration.
/// </summary>
public sealed class PcapReader : IDisposable
{
    private const int InitialBufferSize = 2048;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly bool _swapped;
    private readonly byte[] _recordHeader = new byte[PcapFormat.RecordHeaderLength];
    private byte[] _frame = new byte[InitialBufferSize];
    private int _frameLength;
    private long _position;
    private long _recordsRead;
    private bool _disposed;

    /// <summary>Reads and validates the global header of the pcap file in <paramref name="stream"/>.</summary>
    /// <param name="stream">A readable stream positioned at the start of the file.</param>
    /// <param name="fileName">The name used in error messages.</param>
    /// <param name="leaveOpen">When false, disposing the reader disposes the stream.</param>
    /// <exception cref="PcapFormatException">The global header is truncated or unsupported.</exception>
    public PcapReader(Stream stream, string fileName, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(fileName);
        _stream = stream;
        _leaveOpen = leaveOpen;
        FileName = fileName;

        try
        {
            Span<byte> header = stackalloc byte[PcapFormat.GlobalHeaderLength];
            int got = _stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            (_swapped, Resolution) = ParseMagic(header[..Math.Min(got, 4)]);
            if (got < header.Length)
            {
                throw Error(0, $"truncated global header ({got} of {PcapFormat.GlobalHeaderLength} bytes)");
            }

            ushort major = ReadUInt16(header[4..]);
            ushort minor = ReadUInt16(header[6..]);
            if (major != PcapFormat.VersionMajor || minor != PcapFormat.VersionMinor)
            {
                throw Error(4, $"unsupported pcap version {major}.{minor} (only 2.4 is supported)");
            }

            SnapLength = ReadUInt32(header[16..]);
            LinkType = ReadUInt32(header[20..]);
            if (LinkType != PcapFormat.LinkTypeEthernet)
            {
                throw Error(20, $"unsupported link type {LinkType}; only Ethernet (1) is supported");
            }

            _position = PcapFormat.GlobalHeaderLength;
        }
        catch
        {
            if (!leaveOpen)
            {
                _stream.Dispose();
            }

            throw;
        }
    }

    /// <summary>Opens the pcap file at <paramref name="path"/> for sequential reading.</summary>
    public static PcapReader Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 64 * 1024, FileOptions.SequentialScan);
        return new PcapReader(stream, path);
    }

    /// <summary>The file name used in error messages.</summary>
    public string FileName { get; }

    public PcapResolution Resolution { get; }

    /// <summary>True when the file was written in the other byte order than this machine's.</summary>
    public bool IsByteSwapped => _swapped;

    /// <summary>The snapshot length the writer declared.</summary>
    public uint SnapLength { get; }

    public uint LinkType { get; }

    /// <summary>Number of records read so far.</summary>
    public long RecordsRead => _recordsRead;

    /// <summary>The frame of the last record read; valid until the next read.</summary>
    public ReadOnlySpan<byte> CurrentFrame => _frame.AsSpan(0, _frameLength);

    /// <summary>Reads the next record into the reader's buffer (see <see cref="CurrentFrame"/>).</summary>
    /// <returns>False at a clean end of file (no bytes after the last complete record).</returns>
    /// <exception cref="PcapFormatException">The record is truncated or its length is impossible.</exception>
    public bool TryReadNext(out PcapRecordHeader header)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long recordOffset = _position;
        long recordNumber = _recordsRead + 1;
        int got = _stream.ReadAtLeast(_recordHeader, _recordHeader.Length, throwOnEndOfStream: false);
        if (got == 0)
        {
            header = default;
            _frameLength = 0;
            return false;
        }

        if (got < _recordHeader.Length)
        {
            throw TruncatedRecordHeader(recordNumber, recordOffset, got);
        }

        ReadOnlySpan<byte> h = _recordHeader;
        uint seconds = ReadUInt32(h);
        uint fraction = ReadUInt32(h[4..]);
        uint capturedLength = ReadUInt32(h[8..]);
        uint originalLength = ReadUInt32(h[12..]);
        if (capturedLength > PcapFormat.MaxCaptureLength)
        {
            throw BadCapturedLength(recordNumber, recordOffset, capturedLength);
        }

        int length = (int)capturedLength;
        if (length > _frame.Length)
        {
            GrowFrameBuffer(length);
        }

        int data = _stream.ReadAtLeast(_frame.AsSpan(0, length), length, throwOnEndOfStream: false);
        if (data < length)
        {
            throw TruncatedRecordData(recordNumber, recordOffset, length, data);
        }

        // A record longer than the file's snapshot length is read whole and cut to it, as libpcap
        // does (writers that got the header's snapshot length wrong exist; tcpdump reads their files).
        _frameLength = SnapLength != 0 && capturedLength > SnapLength ? (int)SnapLength : length;
        _position += PcapFormat.RecordHeaderLength + length;
        _recordsRead = recordNumber;
        long fractionNs = Resolution == PcapResolution.Nanoseconds ? fraction : fraction * 1000L;
        header = new PcapRecordHeader(
            recordNumber,
            recordOffset,
            (seconds * PcapFormat.NanosecondsPerSecond) + fractionNs,
            _frameLength,
            (int)Math.Min(originalLength, int.MaxValue));
        return true;
    }

    /// <summary>
    /// Reads the next record straight into <paramref name="packet"/> (growing it for large frames)
    /// and resets the packet's metadata with <paramref name="inPort"/>.
    /// </summary>
    /// <returns>False at a clean end of file; the packet is then unchanged.</returns>
    public bool TryReadNext(Packet packet, uint inPort, out PcapRecordHeader header)
    {
        ArgumentNullException.ThrowIfNull(packet);
        if (!TryReadNext(out header))
        {
            return false;
        }

        packet.SetFrame(CurrentFrame, inPort);
        return true;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    private (bool Swapped, PcapResolution Resolution) ParseMagic(ReadOnlySpan<byte> magicBytes)
    {
        if (magicBytes.Length < 4)
        {
            throw Error(0, $"truncated global header ({magicBytes.Length} of {PcapFormat.GlobalHeaderLength} bytes)");
        }

        uint native = BinaryPrimitives.ReadUInt32LittleEndian(magicBytes);
        if (!BitConverter.IsLittleEndian)
        {
            native = BinaryPrimitives.ReverseEndianness(native);
        }

        uint swapped = BinaryPrimitives.ReverseEndianness(native);
        return native switch
        {
            PcapFormat.MagicMicroseconds => (false, PcapResolution.Microseconds),
            PcapFormat.MagicNanoseconds => (false, PcapResolution.Nanoseconds),
            _ when swapped == PcapFormat.MagicMicroseconds => (true, PcapResolution.Microseconds),
            _ when swapped == PcapFormat.MagicNanoseconds => (true, PcapResolution.Nanoseconds),
            PcapFormat.PcapngMagic => throw Error(0, "pcapng is not supported; convert with editcap -F pcap"),
            _ => throw Error(0, $"unknown magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(magicBytes):x8} (not a classic pcap file)"),
        };
    }

    private ushort ReadUInt16(ReadOnlySpan<byte> bytes)
    {
        ushort v = BitConverter.ToUInt16(bytes);
        return _swapped ? BinaryPrimitives.ReverseEndianness(v) : v;
    }

    private uint ReadUInt32(ReadOnlySpan<byte> bytes)
    {
        uint v = BitConverter.ToUInt32(bytes);
        return _swapped ? BinaryPrimitives.ReverseEndianness(v) : v;
    }

    private void GrowFrameBuffer(int length) => _frame = new byte[Math.Max(length, _frame.Length * 2)];

    private PcapFormatException Error(long offset, string problem) => new(FileName, offset, problem);

    private PcapFormatException TruncatedRecordHeader(long recordNumber, long offset, int got) =>
        new(FileName, recordNumber, offset, $"truncated record header ({got} of {PcapFormat.RecordHeaderLength} bytes)");

    private PcapFormatException TruncatedRecordData(long recordNumber, long offset, int expected, int got) =>
        new(FileName, recordNumber, offset, $"truncated record data ({got} of {expected} captured bytes)");

    private PcapFormatException BadCapturedLength(long recordNumber, long offset, uint capturedLength) =>
        new(FileName, recordNumber, offset, $"captured length {capturedLength} is larger than the {PcapFormat.MaxCaptureLength}-byte limit (corrupt record header)");
}
