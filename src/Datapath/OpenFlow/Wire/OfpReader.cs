using System.Buffers.Binary;

namespace Datapath.OpenFlow.Wire;

/// <summary>
/// Reads big-endian OpenFlow structures from a message with every length checked: reading past
/// the end throws <see cref="OfpException"/> with the error the caller names (by default
/// OFPBRC_BAD_LEN), never an index or argument exception. Cold path (control plane).
/// </summary>
public ref struct OfpReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly OfpErrorKind _shortError;
    private int _position;

    public OfpReader(ReadOnlySpan<byte> data, OfpErrorKind shortError = OfpErrorKind.BadRequestLength)
    {
        _data = data;
        _shortError = shortError;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _data.Length - _position;

    public readonly bool IsEmpty => _position >= _data.Length;

    public byte U8() => Take(1)[0];

    public ushort U16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));

    public uint U32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    public ulong U64() => BinaryPrimitives.ReadUInt64BigEndian(Take(8));

    public ReadOnlySpan<byte> Bytes(int count) => Take(count);

    public void Skip(int count) => Take(count);

    /// <summary>The next <paramref name="count"/> bytes as a reader of their own (a nested structure), with the same error for short reads.</summary>
    public OfpReader Sub(int count) => new(Take(count), _shortError);

    /// <summary>A reader over the next <paramref name="count"/> bytes that reports <paramref name="error"/> when they run short.</summary>
    public OfpReader Sub(int count, OfpErrorKind error) => new(Take(count), error);

    /// <summary>Everything left.</summary>
    public ReadOnlySpan<byte> Rest()
    {
        var rest = _data[_position..];
        _position = _data.Length;
        return rest;
    }

    /// <summary>Peeks a 16-bit value at <paramref name="offset"/> from the current position without moving.</summary>
    public readonly ushort PeekU16(int offset = 0)
    {
        if (offset < 0 || _position + offset + 2 > _data.Length)
        {
            throw new OfpException(_shortError, "structure truncated");
        }

        return BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(_position + offset, 2));
    }

    /// <summary>Peeks a 32-bit value at <paramref name="offset"/> from the current position without moving.</summary>
    public readonly uint PeekU32(int offset = 0)
    {
        if (offset < 0 || _position + offset + 4 > _data.Length)
        {
            throw new OfpException(_shortError, "structure truncated");
        }

        return BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(_position + offset, 4));
    }

    /// <summary>Checks that the skipped padding is zero where OpenFlow requires it.</summary>
    public void Zeros(int count)
    {
        foreach (byte b in Take(count))
        {
            if (b != 0)
            {
                throw new OfpException(_shortError, "nonzero padding");
            }
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > _data.Length - _position)
        {
            throw new OfpException(_shortError, $"structure truncated: {count} bytes needed at offset {_position}, {Math.Max(0, _data.Length - _position)} left");
        }

        var span = _data.Slice(_position, count);
        _position += count;
        return span;
    }
}
