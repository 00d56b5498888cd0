using System.Buffers.Binary;

namespace Datapath.OpenFlow.Wire;

/// <summary>
/// Writes big-endian OpenFlow structures into a growing buffer; lengths of enclosing structures
/// are filled in afterwards (<see cref="Mark"/>, <see cref="PatchLength16"/>). Cold path.
/// </summary>
public sealed class OfpWriter
{
    private byte[] _buffer;
    private int _length;

    public OfpWriter(int capacity = 256)
    {
        _buffer = new byte[Math.Max(16, capacity)];
    }

    public int Length => _length;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    public int Mark() => _length;

    public void U8(byte value) => Grow(1)[0] = value;

    public void U16(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Grow(2), value);

    public void U32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Grow(4), value);

    public void U64(ulong value) => BinaryPrimitives.WriteUInt64BigEndian(Grow(8), value);

    public void Bytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Grow(bytes.Length));

    public void Zeros(int count) => Grow(count).Clear();

    /// <summary>Zeros up to the next multiple of 8 counted from <paramref name="start"/>.</summary>
    public void PadTo8(int start)
    {
        int used = _length - start;
        Zeros((8 - (used % 8)) % 8);
    }

    /// <summary>Writes the length of everything since <paramref name="start"/> as 16 bits at <paramref name="at"/>.</summary>
    public void PatchLength16(int at, int start)
    {
        int length = _length - start;
        if (length > ushort.MaxValue)
        {
            throw new OfpException(OfpErrorKind.BadRequestLength, "message longer than 65535 bytes");
        }

        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(at, 2), (ushort)length);
    }

    public void Patch16(int at, ushort value) => BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(at, 2), value);

    public void Patch32(int at, uint value) => BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(at, 4), value);

    private Span<byte> Grow(int count)
    {
        if (_length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        }

        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
