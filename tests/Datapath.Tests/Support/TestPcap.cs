using System.Buffers.Binary;

namespace Datapath.Tests.Support;

/// <summary>
/// A minimal classic-pcap reader for tests (either byte order, micro- or nanosecond magic).
/// Test-only: it reads the whole file and throws on anything malformed.
/// </summary>
public static class TestPcap
{
    private const int GlobalHeaderLength = 24;
    private const int RecordHeaderLength = 16;

    /// <summary>The captured bytes of every record, in file order.</summary>
    public static IReadOnlyList<byte[]> ReadFrames(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        if (file.Length < GlobalHeaderLength)
        {
            throw new InvalidDataException($"{path}: shorter than a pcap header.");
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(file);
        bool littleEndian = magic is 0xA1B2C3D4 or 0xA1B23C4D;
        if (!littleEndian && magic is not (0xD4C3B2A1 or 0x4D3CB2A1))
        {
            throw new InvalidDataException($"{path}: not a classic pcap file (magic {magic:x8}).");
        }

        var frames = new List<byte[]>();
        int offset = GlobalHeaderLength;
        while (offset < file.Length)
        {
            if (file.Length - offset < RecordHeaderLength)
            {
                throw new InvalidDataException($"{path}: truncated record header at {offset}.");
            }

            ReadOnlySpan<byte> lengthField = file.AsSpan(offset + 8, 4);
            int capturedLength = (int)(littleEndian
                ? BinaryPrimitives.ReadUInt32LittleEndian(lengthField)
                : BinaryPrimitives.ReadUInt32BigEndian(lengthField));
            offset += RecordHeaderLength;
            if (capturedLength < 0 || file.Length - offset < capturedLength)
            {
                throw new InvalidDataException($"{path}: truncated record at {offset}.");
            }

            frames.Add(file.AsSpan(offset, capturedLength).ToArray());
            offset += capturedLength;
        }

        return frames;
    }
}
