using System.Buffers.Binary;
using Datapath.Flow;
using Datapath.Packets;

namespace Datapath.Actions;

/// <summary>
/// 802.1Q / 802.1ad tag insertion and removal right after the MAC addresses (Open vSwitch's
/// eth_push_vlan and eth_pop_vlan). <see cref="Packet.InsertAt"/> and <see cref="Packet.RemoveAt"/>
/// move the packet's layer offsets with the bytes, so later set-field actions still find their headers.
/// </summary>
public static class VlanAction
{
    /// <summary>Bytes of one tag: TPID then TCI.</summary>
    public const int TagLength = 4;

    private const int TagOffset = 12;

    /// <summary>Inserts the tag <paramref name="tpid"/>, <paramref name="tci"/> (written as given) as the outermost one.</summary>
    /// <returns>False when the frame is shorter than two MACs or the headroom is exhausted; the packet is then unchanged.</returns>
    public static bool Push(Packet packet, ushort tpid, ushort tci)
    {
        if (packet.Length < TagOffset || !packet.InsertAt(TagOffset, TagLength))
        {
            return false;
        }

        Span<byte> tag = packet.Data.Slice(TagOffset, TagLength);
        BinaryPrimitives.WriteUInt16BigEndian(tag, tpid);
        BinaryPrimitives.WriteUInt16BigEndian(tag[2..], tci);
        return true;
    }

    /// <summary>Removes the outermost tag (TPID 0x8100 or 0x88a8).</summary>
    /// <returns>False when the packet has no tag; it is then unchanged.</returns>
    public static bool Pop(Packet packet)
    {
        Span<byte> frame = packet.Data;
        if (frame.Length < TagOffset + TagLength + 2)
        {
            return false;
        }

        ushort tpid = BinaryPrimitives.ReadUInt16BigEndian(frame[TagOffset..]);
        if (tpid != EtherTypes.Vlan8021Q && tpid != EtherTypes.Vlan8021AD)
        {
            return false;
        }

        return packet.RemoveAt(TagOffset, TagLength);
    }
}
