using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Datapath.Packets;

namespace Datapath.Flow;

/// <summary>
/// The flow key of a packet: metadata plus L2-L4 header fields in a fixed-size value
/// (the analogue of Open vSwitch's struct flow / miniflow). The same type serves as a
/// wildcard mask, where a 1 bit means "this bit matters".
///
/// Layout (word: bits):
///  0: in_port 0-31, recirc_id 32-63
///  1: ct_state 0-7, ct_zone 16-31, ct_mark 32-63
///  2-3: ct_label (2 = high 64 bits, 3 = low)
///  4: eth_dst 0-47, eth_type 48-63
///  5: eth_src 0-47
///  6: vlan0 tci 0-15, vlan0 tpid 16-31, vlan1 tci 32-47, vlan1 tpid 48-63 (tci has 0x1000 set when the tag is present, as OVS's VLAN_CFI)
///  7: nw_proto (or ARP op) 0-7, nw_tos 8-15, nw_ttl 16-23, nw_frag 24-31, ipv6_label 32-51
///  8: IPv4 / ARP source 0-31, destination 32-63
///  9-10: IPv6 source (9 = high), 11-12: IPv6 destination
///  13: tp_src (or ICMP type) 0-15, tp_dst (or ICMP code) 16-31, tcp_flags 32-47
///  14: ARP sha / ND sll 0-47, 15: ARP tha / ND tll 0-47
///  16-17: ND target (16 = high)
///  18-19: ct_ipv6_src (18 = high), 20-21: ct_ipv6_dst
///  22: ct_nw_src 0-31, ct_nw_dst 32-63
///  23: ct_tp_src 0-15, ct_tp_dst 16-31, ct_nw_proto 32-39
/// (words 18-23 are the conntrack original-direction tuple: zero unless conntrack set it)
/// Integers are stored in host order; MAC addresses as the 48-bit big-endian number they spell.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct FlowKey : IEquatable<FlowKey>
{
    public const int WordCount = 24;

    /// <summary>The first word of the conntrack original-direction tuple (ct_nw_src, ct_ipv6_src...).</summary>
    public const int CtTupleFirstWord = 18;

    /// <summary>nw_frag bit: the packet is a fragment (OVS FLOW_NW_FRAG_ANY).</summary>
    public const byte FragAny = 1;

    /// <summary>nw_frag bit: the packet is a non-first fragment (OVS FLOW_NW_FRAG_LATER).</summary>
    public const byte FragLater = 2;

    /// <summary>VLAN TCI bit meaning "a tag is present" (OVS VLAN_CFI).</summary>
    public const ushort VlanPresent = 0x1000;

    public FlowWords Words;

    public static FlowKey Zero => default;

    /// <summary>A mask with every bit set (an exact match).</summary>
    public static FlowKey AllOnes
    {
        get
        {
            var k = default(FlowKey);
            ((Span<ulong>)k.Words).Fill(ulong.MaxValue);
            return k;
        }
    }

    public ulong this[int word]
    {
        readonly get => Words[word];
        set => Words[word] = value;
    }

    // ---- metadata ----
    public uint InPort { readonly get => Get32(0, 0); set => Set32(0, 0, value); }
    public uint RecircId { readonly get => Get32(0, 32); set => Set32(0, 32, value); }
    public CtState CtState { readonly get => (CtState)Get8(1, 0); set => Set8(1, 0, (byte)value); }
    public ushort CtZone { readonly get => Get16(1, 16); set => Set16(1, 16, value); }
    public uint CtMark { readonly get => Get32(1, 32); set => Set32(1, 32, value); }
    public UInt128 CtLabel { readonly get => new(Words[2], Words[3]); set { Words[2] = (ulong)(value >> 64); Words[3] = (ulong)value; } }
    public UInt128 CtIpv6Src { readonly get => new(Words[18], Words[19]); set { Words[18] = (ulong)(value >> 64); Words[19] = (ulong)value; } }
    public UInt128 CtIpv6Dst { readonly get => new(Words[20], Words[21]); set { Words[20] = (ulong)(value >> 64); Words[21] = (ulong)value; } }
    public uint CtNwSrc { readonly get => Get32(22, 0); set => Set32(22, 0, value); }
    public uint CtNwDst { readonly get => Get32(22, 32); set => Set32(22, 32, value); }
    public ushort CtTpSrc { readonly get => Get16(23, 0); set => Set16(23, 0, value); }
    public ushort CtTpDst { readonly get => Get16(23, 16); set => Set16(23, 16, value); }
    public byte CtNwProto { readonly get => Get8(23, 32); set => Set8(23, 32, value); }

    /// <summary>
    /// Zeroes every conntrack field (ct_state, ct_zone, ct_mark, ct_label and the original-direction
    /// tuple): the key a packet has before any ct action, as flow_clear_conntrack leaves it.
    /// </summary>
    public void ClearConntrack()
    {
        Words[1] = 0;
        Words[2] = 0;
        Words[3] = 0;
        for (int w = CtTupleFirstWord; w < WordCount; w++)
        {
            Words[w] = 0;
        }
    }

    /// <summary>True when any bit of the conntrack original-direction tuple is set (in a key or a mask).</summary>
    public readonly bool HasCtTuple
    {
        get
        {
            for (int w = CtTupleFirstWord; w < WordCount; w++)
            {
                if (Words[w] != 0)
                {
                    return true;
                }
            }

            return false;
        }
    }

    // ---- L2 ----
    public ulong EthDst { readonly get => Words[4] & Mac48; set => Words[4] = (Words[4] & ~Mac48) | (value & Mac48); }
    public ushort EthType { readonly get => Get16(4, 48); set => Set16(4, 48, value); }
    public ulong EthSrc { readonly get => Words[5] & Mac48; set => Words[5] = (Words[5] & ~Mac48) | (value & Mac48); }
    public ushort Vlan0Tci { readonly get => Get16(6, 0); set => Set16(6, 0, value); }
    public ushort Vlan0Tpid { readonly get => Get16(6, 16); set => Set16(6, 16, value); }
    public ushort Vlan1Tci { readonly get => Get16(6, 32); set => Set16(6, 32, value); }
    public ushort Vlan1Tpid { readonly get => Get16(6, 48); set => Set16(6, 48, value); }

    // ---- L3 ----
    public byte NwProto { readonly get => Get8(7, 0); set => Set8(7, 0, value); }
    public byte NwTos { readonly get => Get8(7, 8); set => Set8(7, 8, value); }
    public byte NwTtl { readonly get => Get8(7, 16); set => Set8(7, 16, value); }
    public byte NwFrag { readonly get => Get8(7, 24); set => Set8(7, 24, value); }
    public uint Ipv6Label { readonly get => Get32(7, 32) & 0xFFFFF; set => Set32(7, 32, value & 0xFFFFF); }
    public uint NwSrc { readonly get => Get32(8, 0); set => Set32(8, 0, value); }
    public uint NwDst { readonly get => Get32(8, 32); set => Set32(8, 32, value); }
    public UInt128 Ipv6Src { readonly get => new(Words[9], Words[10]); set { Words[9] = (ulong)(value >> 64); Words[10] = (ulong)value; } }
    public UInt128 Ipv6Dst { readonly get => new(Words[11], Words[12]); set { Words[11] = (ulong)(value >> 64); Words[12] = (ulong)value; } }

    // ---- L4 ----
    public ushort TpSrc { readonly get => Get16(13, 0); set => Set16(13, 0, value); }
    public ushort TpDst { readonly get => Get16(13, 16); set => Set16(13, 16, value); }
    public ushort TcpFlags { readonly get => Get16(13, 32); set => Set16(13, 32, value); }
    public ulong ArpSha { readonly get => Words[14] & Mac48; set => Words[14] = value & Mac48; }
    public ulong ArpTha { readonly get => Words[15] & Mac48; set => Words[15] = value & Mac48; }
    public UInt128 NdTarget { readonly get => new(Words[16], Words[17]); set { Words[16] = (ulong)(value >> 64); Words[17] = (ulong)value; } }

    /// <summary>ARP opcode (shares nw_proto, as in Open vSwitch).</summary>
    public byte ArpOp { readonly get => NwProto; set => NwProto = value; }

    /// <summary>ICMP / ICMPv6 type (shares tp_src, as in Open vSwitch).</summary>
    public byte IcmpType { readonly get => (byte)TpSrc; set => TpSrc = value; }

    /// <summary>ICMP / ICMPv6 code (shares tp_dst, as in Open vSwitch).</summary>
    public byte IcmpCode { readonly get => (byte)TpDst; set => TpDst = value; }

    public readonly bool IsIpv4 => EthType == EtherTypes.Ipv4;
    public readonly bool IsIpv6 => EthType == EtherTypes.Ipv6;

    /// <summary>Reads an IPv6 address from wire bytes into the 128-bit form the key stores.</summary>
    public static UInt128 ReadIpv6(ReadOnlySpan<byte> sixteenBytes) => BinaryPrimitives.ReadUInt128BigEndian(sixteenBytes);

    /// <summary>Reads a MAC address from wire bytes into the 48-bit form the key stores.</summary>
    public static ulong ReadMac(ReadOnlySpan<byte> sixBytes) =>
        ((ulong)BinaryPrimitives.ReadUInt16BigEndian(sixBytes) << 32) | BinaryPrimitives.ReadUInt32BigEndian(sixBytes[2..]);

    public static void WriteMac(Span<byte> sixBytes, ulong mac)
    {
        BinaryPrimitives.WriteUInt16BigEndian(sixBytes, (ushort)(mac >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(sixBytes[2..], (uint)mac);
    }

    /// <summary>Parses a MAC address written as six colon-separated hex bytes (xx:xx:xx:xx:xx:xx).</summary>
    public static bool TryParseMac(string text, out ulong mac)
    {
        mac = 0;
        string[] parts = text.Split(':');
        if (parts.Length != 6)
        {
            return false;
        }

        foreach (string part in parts)
        {
            if (part.Length is < 1 or > 2 || !byte.TryParse(part, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out byte b))
            {
                mac = 0;
                return false;
            }

            mac = (mac << 8) | b;
        }

        return true;
    }

    public static IPAddress ToIPAddress(uint ipv4)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, ipv4);
        return new IPAddress(b);
    }

    public static IPAddress ToIPAddress(UInt128 ipv6)
    {
        Span<byte> b = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(b, ipv6);
        return new IPAddress(b);
    }

    // ---- whole-key operations (hot path: vectorised, allocation-free) ----

    public readonly bool Equals(FlowKey other) => Equals(in this, in other);

    public static bool Equals(in FlowKey a, in FlowKey b) =>
        AsBytes(in a).SequenceEqual(AsBytes(in b));

    public override readonly bool Equals(object? obj) => obj is FlowKey other && Equals(other);

    public override readonly int GetHashCode() => (int)FlowHash.Hash(in this);

    public static bool operator ==(FlowKey a, FlowKey b) => Equals(in a, in b);

    public static bool operator !=(FlowKey a, FlowKey b) => !Equals(in a, in b);

    /// <summary>True when (key AND mask) equals <paramref name="maskedValue"/> (which must already be masked).</summary>
    public static bool MatchesMasked(in FlowKey key, in FlowKey mask, in FlowKey maskedValue)
    {
        ReadOnlySpan<ulong> k = key.Words;
        ReadOnlySpan<ulong> m = mask.Words;
        ReadOnlySpan<ulong> v = maskedValue.Words;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 4 <= WordCount; i += 4)
            {
                var diff = (Vector256.Create(k.Slice(i, 4)) & Vector256.Create(m.Slice(i, 4))) ^ Vector256.Create(v.Slice(i, 4));
                if (diff != Vector256<ulong>.Zero)
                {
                    return false;
                }
            }
        }

        for (; i < WordCount; i++)
        {
            if ((k[i] & m[i]) != v[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Returns key AND mask.</summary>
    public static FlowKey And(in FlowKey key, in FlowKey mask)
    {
        var r = default(FlowKey);
        for (int i = 0; i < WordCount; i++)
        {
            r.Words[i] = key.Words[i] & mask.Words[i];
        }

        return r;
    }

    /// <summary>Returns a OR b (used to union megaflow masks during translation).</summary>
    public static FlowKey Or(in FlowKey a, in FlowKey b)
    {
        var r = default(FlowKey);
        for (int i = 0; i < WordCount; i++)
        {
            r.Words[i] = a.Words[i] | b.Words[i];
        }

        return r;
    }

    public readonly bool IsZero
    {
        get
        {
            foreach (ulong w in (ReadOnlySpan<ulong>)Words)
            {
                if (w != 0)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>The key's bytes (for hashing with a byte-oriented hash and for tests).</summary>
    public static ReadOnlySpan<byte> AsBytes(in FlowKey key) =>
        MemoryMarshal.AsBytes((ReadOnlySpan<ulong>)key.Words);

    private const ulong Mac48 = 0xFFFF_FFFF_FFFFUL;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly byte Get8(int w, int shift) => (byte)(Words[w] >> shift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly ushort Get16(int w, int shift) => (ushort)(Words[w] >> shift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly uint Get32(int w, int shift) => (uint)(Words[w] >> shift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Set8(int w, int shift, byte v) => Words[w] = (Words[w] & ~(0xFFUL << shift)) | ((ulong)v << shift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Set16(int w, int shift, ushort v) => Words[w] = (Words[w] & ~(0xFFFFUL << shift)) | ((ulong)v << shift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Set32(int w, int shift, uint v) => Words[w] = (Words[w] & ~(0xFFFF_FFFFUL << shift)) | ((ulong)v << shift);
}
