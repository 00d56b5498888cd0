using System.Buffers.Binary;

namespace Datapath.Packets.Pcap;

/// <summary>
/// Writes a classic libpcap file: little-endian, version 2.4, link type Ethernet, snapshot
/// length 65535, microsecond or nanosecond timestamps. Frames longer than the snapshot length
/// are cut to it with their original length recorded, as libpcap does. Writing a record
/// allocates nothing; the stream is flushed on <see cref="Dispose"/>.
/// </summary>
public sealed class PcapWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly byte[] _recordHeader = new byte[PcapFormat.RecordHeaderLength];
    private bool _disposed;

    /// <summary>Writes the global header to <paramref name="stream"/>.</summary>
    /// <param name="leaveOpen">When false, disposing the writer disposes the stream.</param>
    public PcapWriter(Stream stream, PcapResolution resolution = PcapResolution.Microseconds, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
        Resolution = resolution;

        Span<byte> header = stackalloc byte[PcapFormat.GlobalHeaderLength];
        header.Clear();
        uint magic = resolution == PcapResolution.Nanoseconds ? PcapFormat.MagicNanoseconds : PcapFormat.MagicMicroseconds;
        BinaryPrimitives.WriteUInt32LittleEndian(header, magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], PcapFormat.VersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], PcapFormat.VersionMinor);

        // thiszone (8..11) and sigfigs (12..15) stay 0, as every modern writer leaves them.
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], PcapFormat.DefaultSnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], PcapFormat.LinkTypeEthernet);
        _stream.Write(header);
    }

    /// <summary>Creates (or truncates) the file at <paramref name="path"/> and writes the global header.</summary>
    public static PcapWriter Create(string path, PcapResolution resolution = PcapResolution.Microseconds)
    {
        var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 64 * 1024);
        return new PcapWriter(stream, resolution);
    }

    public PcapResolution Resolution { get; }

    /// <summary>Appends one record.</summary>
    /// <param name="frame">The Ethernet frame; bytes past the snapshot length are not written.</param>
    /// <param name="timestampNs">Nanoseconds since the Unix epoch; microsecond files round down.</param>
    /// <exception cref="ArgumentOutOfRangeException">The timestamp is negative or past the year 2106 (32-bit seconds).</exception>
    public void Write(ReadOnlySpan<byte> frame, long timestampNs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((ulong)timestampNs >= (ulong)uint.MaxValue * PcapFormat.NanosecondsPerSecond)
        {
            ThrowTimestampOutOfRange(timestampNs);
        }

        long seconds = timestampNs / PcapFormat.NanosecondsPerSecond;
        long fractionNs = timestampNs % PcapFormat.NanosecondsPerSecond;
        long fraction = Resolution == PcapResolution.Nanoseconds ? fractionNs : fractionNs / 1000;
        int captured = Math.Min(frame.Length, PcapFormat.DefaultSnapLength);

        Span<byte> h = _recordHeader;
        BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)fraction);
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)captured);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], (uint)frame.Length);
        _stream.Write(h);
        _stream.Write(frame[..captured]);
    }

    public void Flush() => _stream.Flush();

    /// <summary>Flushes and, unless the writer was told to leave it open, closes the stream.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stream.Flush();
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    private static void ThrowTimestampOutOfRange(long timestampNs) =>
        throw new ArgumentOutOfRangeException(nameof(timestampNs), timestampNs, "A pcap timestamp must be between the Unix epoch and the year 2106.");
}
