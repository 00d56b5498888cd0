using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Actors.Ports.Linux;

/// <summary>
/// A Linux link-layer address (struct sockaddr_ll) for binding an AF_PACKET socket to one interface
/// and protocol. .NET supports packet sockets but has no EndPoint for them; Socket.Bind only needs
/// <see cref="Serialize"/>, so this is the whole of it.
/// </summary>
internal sealed class LinkLayerEndPoint(int interfaceIndex, ushort protocol) : EndPoint
{
    // struct sockaddr_ll: family u16, protocol be16, ifindex s32, hatype u16, pkttype u8, halen u8, addr[8].
    private const int Size = 20;

    public int InterfaceIndex { get; } = interfaceIndex;

    /// <summary>The EtherType received (host order); 0 receives nothing (a transmit-only socket).</summary>
    public ushort Protocol { get; } = protocol;

    public override AddressFamily AddressFamily => AddressFamily.Packet;

    public override SocketAddress Serialize()
    {
        var address = new SocketAddress(AddressFamily.Packet, Size);
        var bytes = address.Buffer.Span;
        BinaryPrimitives.WriteUInt16BigEndian(bytes[2..], Protocol);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[4..], InterfaceIndex);
        return address;
    }

    public override EndPoint Create(SocketAddress socketAddress) => this;
}
