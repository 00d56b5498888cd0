using System.Buffers.Binary;

namespace Datapath.Flow;

/// <summary>
/// The Toeplitz hash that NICs use for receive-side scaling (Microsoft's RSS specification), so
/// that software queue selection agrees with hardware that uses the same key.
/// </summary>
public static class Toeplitz
{
    /// <summary>Microsoft's default 40-byte RSS key (used by most NIC drivers and by DPDK's examples).</summary>
    public static ReadOnlySpan<byte> DefaultKey =>
    [
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
        0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
        0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
        0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
        0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    ];

    /// <summary>Hashes <paramref name="input"/> with <see cref="DefaultKey"/>.</summary>
    public static uint Hash(ReadOnlySpan<byte> input) => Hash(DefaultKey, input);

    /// <summary>
    /// For every set bit i of the input (most significant bit of byte 0 first), XORs in the 32 key
    /// bits starting at key bit i. The key must be at least 4 bytes longer than the input.
    /// </summary>
    public static uint Hash(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input)
    {
        if (key.Length < input.Length + 4)
        {
            ThrowKeyTooShort();
        }

        uint result = 0;
        for (int i = 0; i < input.Length; i++)
        {
            byte b = input[i];
            if (b == 0)
            {
                continue;
            }

            // Key bits [8i, 8i + 40) cover the 32-bit windows of all 8 input bits of byte i.
            ulong window = ((ulong)BinaryPrimitives.ReadUInt32BigEndian(key[i..]) << 8)
                | (i + 4 < key.Length ? key[i + 4] : 0u);
            for (int bit = 0; bit < 8; bit++)
            {
                if ((b & (0x80 >> bit)) != 0)
                {
                    result ^= (uint)(window >> (8 - bit));
                }
            }
        }

        return result;
    }

    private static void ThrowKeyTooShort() =>
        throw new ArgumentException("The Toeplitz key must be at least 4 bytes longer than the input.", "key");
}
