using System.Buffers.Binary;
using System.Numerics;

namespace Datapath.Packets;

/// <summary>
/// CRC-32C (Castagnoli), the SCTP checksum (RFC 4960 appendix B), the analogue of Open vSwitch's
/// lib/crc32c.c. System.IO.Hashing has only CRC-32; <see cref="BitOperations.Crc32C(uint, ulong)"/>
/// uses the SSE4.2 / ARMv8 instruction when present and a software table otherwise.
/// </summary>
public static class Crc32c
{
    /// <summary>The CRC-32C of <paramref name="data"/> (initial value and final XOR all ones).</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = uint.MaxValue;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        }

        for (; i < data.Length; i++)
        {
            crc = BitOperations.Crc32C(crc, data[i]);
        }

        return ~crc;
    }

    /// <summary>Reads an SCTP checksum field: the CRC is stored least significant byte first.</summary>
    public static uint ReadSctp(ReadOnlySpan<byte> field) => BinaryPrimitives.ReadUInt32LittleEndian(field);

    /// <summary>Writes an SCTP checksum field.</summary>
    public static void WriteSctp(Span<byte> field, uint crc) => BinaryPrimitives.WriteUInt32LittleEndian(field, crc);
}
