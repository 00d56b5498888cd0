using System.Buffers.Binary;

namespace Datapath.Tests.Packets;

/// <summary>
/// Builds classic pcap files byte by byte, independently of PcapWriter, so the reader can be
/// tested against either byte order and against deliberately broken headers.
/// </summary>
internal sealed class PcapFileBuilder
{
    private readonly MemoryStream _bytes = new();

    public PcapFileBuilder(
        bool bigEndian = false,
        uint magic = 0xa1b2c3d4,
        ushort major = 2,
        ushort minor = 4,
        uint snapLength = 65535,
        uint linkType = 1)
    {
        BigEndian = bigEndian;
        U32(magic);
        U16(major);
        U16(minor);
        U32(0);
        U32(0);
        U32(snapLength);
        U32(linkType);
    }

    public bool BigEndian { get; }

    public long Length => _bytes.Length;

    /// <summary>Appends a record; captured/original lengths default to the frame's length.</summary>
    public PcapFileBuilder Record(uint seconds, uint fraction, byte[] frame, uint? capturedLength = null, uint? originalLength = null)
    {
        U32(seconds);
        U32(fraction);
        U32(capturedLength ?? (uint)frame.Length);
        U32(originalLength ?? (uint)frame.Length);
        _bytes.Write(frame);
        return this;
    }

    public PcapFileBuilder Raw(ReadOnlySpan<byte> bytes)
    {
        _bytes.Write(bytes);
        return this;
    }

    public byte[] ToArray() => _bytes.ToArray();

    public static byte[] Frame(int length, int seed)
    {
        var frame = new byte[length];
        new Random(seed).NextBytes(frame);
        return frame;
    }

    private void U16(ushort v)
    {
        Span<byte> b = stackalloc byte[2];
        if (BigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(b, v);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        }

        _bytes.Write(b);
    }

    private void U32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        if (BigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b, v);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        }

        _bytes.Write(b);
    }
}

/// <summary>A read-only stream that hands out at most a few bytes per Read, as pipes and sockets may.</summary>
internal sealed class TrickleStream(byte[] data, int maxPerRead) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(Math.Min(buffer.Length, maxPerRead), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
