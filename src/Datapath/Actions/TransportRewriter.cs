using System.Buffers.Binary;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Actions;

/// <summary>
/// Transport-header rewrites: masked port changes (Open vSwitch's odp_set_tcp/udp/sctp with
/// packet_set_tcp_port/udp_port/sctp_port) and the checksum fix after a pseudo-header change
/// (the L4 half of packet_set_ipv4_addr and packet_update_csum128).
/// The transport header spans [l4, end) of the frame, where end excludes Ethernet padding.
/// </summary>
internal static class TransportRewriter
{
    private const int TcpHeaderLength = 20;
    private const int UdpHeaderLength = 8;
    private const int SctpHeaderLength = 12;
    private const int Icmpv6HeaderLength = 4;

    private const int TcpChecksumOffset = 16;
    private const int UdpChecksumOffset = 6;
    private const int SctpChecksumOffset = 8;
    private const int Icmpv6ChecksumOffset = 2;

    /// <summary>
    /// Fixes the transport checksum after pseudo-header bytes changed by <paramref name="delta"/>
    /// (<see cref="Checksum.Delta32"/> or <see cref="Checksum.Delta128"/>). TCP always; UDP unless
    /// its checksum is 0 ("none"), and a result of 0 is sent as 0xFFFF; ICMPv6 only under IPv6,
    /// since ICMPv4 has no pseudo-header. Truncated headers are left alone.
    /// </summary>
    public static void AdjustForPseudoHeader(Span<byte> frame, int l4, int end, byte protocol, bool ipv6, ulong delta)
    {
        int size = end - l4;
        if (protocol == IpProtocols.Tcp && size >= TcpHeaderLength)
        {
            AdjustField(frame.Slice(l4 + TcpChecksumOffset, 2), delta);
        }
        else if (protocol == IpProtocols.Udp && size >= UdpHeaderLength)
        {
            AdjustUdpField(frame.Slice(l4 + UdpChecksumOffset, 2), delta);
        }
        else if (ipv6 && protocol == IpProtocols.Icmpv6 && size >= Icmpv6HeaderLength)
        {
            AdjustField(frame.Slice(l4 + Icmpv6ChecksumOffset, 2), delta);
        }
    }

    /// <summary>
    /// Sets the 16-bit port at <paramref name="portOffset"/> (0: source, 2: destination) of a TCP, UDP
    /// or SCTP header to (old AND NOT mask) OR (value AND mask) and updates its checksum.
    /// False when there is no such header (another protocol, or truncated): nothing is changed.
    /// </summary>
    public static bool SetPort(Span<byte> frame, int l4, int end, byte protocol, int portOffset, ushort value, ushort mask)
    {
        int size = end - l4;
        switch (protocol)
        {
            case IpProtocols.Tcp:
                if (size < TcpHeaderLength || !HasWholeTcpHeader(frame[l4..end]))
                {
                    return false;
                }

                SetTcpPort(frame.Slice(l4, TcpHeaderLength), portOffset, value, mask);
                return true;

            case IpProtocols.Udp:
                if (size < UdpHeaderLength)
                {
                    return false;
                }

                SetUdpPort(frame.Slice(l4, UdpHeaderLength), portOffset, value, mask);
                return true;

            case IpProtocols.Sctp:
                if (size < SctpHeaderLength)
                {
                    return false;
                }

                SetSctpPort(frame[l4..end], portOffset, value, mask);
                return true;

            default:
                return false;
        }
    }

    // As OVS's dp_packet_get_tcp_payload: the data offset must describe a header that fits.
    private static bool HasWholeTcpHeader(ReadOnlySpan<byte> segment)
    {
        int headerLength = (segment[12] >> 4) * 4;
        return headerLength >= TcpHeaderLength && headerLength <= segment.Length;
    }

    private static void SetTcpPort(Span<byte> header, int portOffset, ushort value, ushort mask)
    {
        ushort old = BinaryPrimitives.ReadUInt16BigEndian(header[portOffset..]);
        ushort updated = (ushort)((old & ~mask) | (value & mask));
        if (updated == old)
        {
            return;
        }

        Span<byte> csum = header.Slice(TcpChecksumOffset, 2);
        BinaryPrimitives.WriteUInt16BigEndian(csum, Checksum.Update16(BinaryPrimitives.ReadUInt16BigEndian(csum), old, updated));
        BinaryPrimitives.WriteUInt16BigEndian(header[portOffset..], updated);
    }

    private static void SetUdpPort(Span<byte> header, int portOffset, ushort value, ushort mask)
    {
        ushort old = BinaryPrimitives.ReadUInt16BigEndian(header[portOffset..]);
        ushort updated = (ushort)((old & ~mask) | (value & mask));
        if (updated == old)
        {
            return;
        }

        AdjustUdpField(header.Slice(UdpChecksumOffset, 2), (ulong)(ushort)~old + updated);
        BinaryPrimitives.WriteUInt16BigEndian(header[portOffset..], updated);
    }

    /// <summary>
    /// SCTP carries a CRC-32C of the whole packet, which has no incremental form; like OVS's
    /// packet_set_sctp_port, keep whatever error the old checksum had (old XOR its correct value)
    /// so that the datapath never turns a corrupt packet into a valid one.
    /// </summary>
    private static void SetSctpPort(Span<byte> packet, int portOffset, ushort value, ushort mask)
    {
        ushort old = BinaryPrimitives.ReadUInt16BigEndian(packet[portOffset..]);
        ushort updated = (ushort)((old & ~mask) | (value & mask));
        if (updated == old)
        {
            return;
        }

        Span<byte> csum = packet.Slice(SctpChecksumOffset, 4);
        uint oldField = Crc32c.ReadSctp(csum);
        Crc32c.WriteSctp(csum, 0);
        uint oldCorrect = Crc32c.Compute(packet);
        BinaryPrimitives.WriteUInt16BigEndian(packet[portOffset..], updated);
        uint newCorrect = Crc32c.Compute(packet);
        Crc32c.WriteSctp(csum, oldField ^ oldCorrect ^ newCorrect);
    }

    private static void AdjustField(Span<byte> field, ulong delta) =>
        BinaryPrimitives.WriteUInt16BigEndian(field, Checksum.Adjust(BinaryPrimitives.ReadUInt16BigEndian(field), delta));

    // UDP checksum 0 means "not computed" and stays so (OVS does the same for IPv6, where it is not
    // strictly allowed); a computed 0 must then be sent as its other representation, 0xFFFF.
    private static void AdjustUdpField(Span<byte> field, ulong delta)
    {
        ushort csum = BinaryPrimitives.ReadUInt16BigEndian(field);
        if (csum == 0)
        {
            return;
        }

        csum = Checksum.Adjust(csum, delta);
        BinaryPrimitives.WriteUInt16BigEndian(field, csum == 0 ? (ushort)0xFFFF : csum);
    }
}
