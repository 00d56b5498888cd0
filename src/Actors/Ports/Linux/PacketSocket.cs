using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Actors.Ports.Linux;

/// <summary>
/// An AF_PACKET socket on one interface, sending and receiving whole Ethernet frames (as Open
/// vSwitch's netdev-linux does for system ports). .NET creates, binds and polls packet sockets
/// itself; the packet-level options (promiscuous membership, fanout, ignoring outgoing frames)
/// have no .NET names, so they are set as raw SOL_PACKET options with the values of
/// linux/if_packet.h. Every failure becomes a <see cref="SystemPortException"/> in the user's terms.
/// Non-blocking: receive and send never wait; <see cref="Poll"/> does, with a timeout.
/// </summary>
internal sealed class PacketSocket : IDisposable
{
    // linux/if_packet.h and linux/if_ether.h.
    private const int SolPacket = 263;
    private const int PacketAddMembership = 1;
    private const int PacketFanout = 18;
    private const int PacketStatistics = 6;
    private const int PacketIgnoreOutgoing = 23;
    private const ushort PacketMrPromisc = 1;
    private const int PacketFanoutHash = 0;
    private const int PacketFanoutFlagUniqueId = 0x2000;

    // PACKET_IGNORE_OUTGOING is a socket's, but a fanout group delivers through its own hook: the
    // group must ignore outgoing frames itself (Linux 6.6 and later know this flag).
    private const int PacketFanoutFlagIgnoreOutgoing = 0x4000;
    private const int Einval = 22;
    private const ushort EthPAll = 0x0003;

    // Errno values whose meaning the user should read in their own words.
    private const int Eperm = 1;
    private const int Eacces = 13;
    private const int Enodev = 19;
    private const int Enxio = 6;

    private readonly Socket _socket;

    private PacketSocket(Socket socket, LinuxInterface device)
    {
        _socket = socket;
        Interface = device;
    }

    public LinuxInterface Interface { get; }

    /// <summary>A socket that receives every frame arriving on the interface (none it sends itself: PACKET_IGNORE_OUTGOING).</summary>
    public static PacketSocket OpenReceiver(LinuxInterface device, int receiveBufferBytes) =>
        Open(device, EthPAll, socket =>
        {
            socket.ReceiveBufferSize = receiveBufferBytes;
            SetInt(socket, PacketIgnoreOutgoing, 1, device.Name, "PACKET_IGNORE_OUTGOING");
        });

    /// <summary>A socket that only sends (bound to protocol 0, so the kernel gives it no frames).</summary>
    public static PacketSocket OpenTransmitter(LinuxInterface device, int sendBufferBytes) =>
        Open(device, 0, socket => socket.SendBufferSize = sendBufferBytes);

    /// <summary>Puts the interface in promiscuous mode for as long as this socket is open (PACKET_MR_PROMISC).</summary>
    public void SetPromiscuous()
    {
        // struct packet_mreq: ifindex s32, type u16, alen u16, address[8].
        var request = new byte[16];
        BinaryPrimitives.WriteInt32LittleEndian(request, Interface.Index);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(4), PacketMrPromisc);
        Guard(() => _socket.SetRawSocketOption(SolPacket, PacketAddMembership, request), Interface.Name, "promiscuous mode");
    }

    /// <summary>
    /// Starts a new hash fanout group with this socket (the kernel picks a free id) that ignores
    /// outgoing frames, and returns the id others join with; null when the kernel cannot make
    /// such a group (before Linux 6.6), since one that passes the port's own frames back would loop them.
    /// </summary>
    public int? TryCreateFanoutGroup()
    {
        var value = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(value, (PacketFanoutHash | PacketFanoutFlagUniqueId | PacketFanoutFlagIgnoreOutgoing) << 16);
        try
        {
            _socket.SetRawSocketOption(SolPacket, PacketFanout, value);
        }
        catch (SocketException e) when (e.NativeErrorCode == Einval)
        {
            return null;
        }
        catch (SocketException e)
        {
            throw Describe(e, Interface.Name, "PACKET_FANOUT");
        }

        Guard(() => _socket.GetRawSocketOption(SolPacket, PacketFanout, value), Interface.Name, "PACKET_FANOUT");
        return BinaryPrimitives.ReadInt32LittleEndian(value) & 0xffff;
    }

    /// <summary>Joins the hash fanout group <paramref name="id"/>: the kernel spreads the interface's frames over its members by flow hash.</summary>
    public void JoinFanoutGroup(int id) =>
        SetInt(_socket, PacketFanout, ((PacketFanoutHash | PacketFanoutFlagIgnoreOutgoing) << 16) | id, Interface.Name, "PACKET_FANOUT");

    /// <summary>Waits up to <paramref name="timeout"/> for a frame (or an error) to read.</summary>
    public bool Poll(TimeSpan timeout) => _socket.Poll(timeout, SelectMode.SelectRead);

    /// <summary>Reads one frame into <paramref name="buffer"/>: its length, 0 when none is waiting, -1 on an error (counted by the caller).</summary>
    public int Receive(Span<byte> buffer)
    {
        int length = _socket.Receive(buffer, SocketFlags.None, out var error);
        return error switch
        {
            SocketError.Success => length,
            SocketError.WouldBlock => 0,
            _ => -1,
        };
    }

    /// <summary>
    /// Frames the kernel dropped for this socket since the last call (PACKET_STATISTICS, which
    /// resets on reading): its receive buffer was full because the datapath did not read.
    /// </summary>
    public long TakeKernelDrops()
    {
        // struct tpacket_stats: tp_packets u32, tp_drops u32.
        Span<byte> stats = stackalloc byte[8];
        try
        {
            return _socket.GetRawSocketOption(SolPacket, PacketStatistics, stats) == 8 ? BinaryPrimitives.ReadUInt32LittleEndian(stats[4..]) : 0;
        }
        catch (SocketException)
        {
            return 0;
        }
    }

    /// <summary>Sends one frame; false when the interface refused it or its buffer is full (never waits).</summary>
    public bool Send(ReadOnlySpan<byte> frame)
    {
        int sent = _socket.Send(frame, SocketFlags.None, out var error);
        return error == SocketError.Success && sent == frame.Length;
    }

    public void Dispose() => _socket.Dispose();

    /// <summary>Turns a failed socket call into the message a user acts on.</summary>
    internal static SystemPortException Describe(SocketException e, string interfaceName, string what) => e.NativeErrorCode switch
    {
        Eperm or Eacces => new SystemPortException(
            $"{interfaceName}: {what}: permission denied: packet sockets need CAP_NET_RAW (run as root, or grant it: setcap cap_net_raw+ep)", e),
        Enodev or Enxio => new SystemPortException("no such interface: " + interfaceName, e),
        _ => new SystemPortException($"{interfaceName}: {what}: {e.Message}", e),
    };

    private static PacketSocket Open(LinuxInterface device, ushort protocol, Action<Socket> configure)
    {
        Socket? socket = null;
        try
        {
            // The protocol of socket(2) is in network order for packet sockets.
            socket = Guard(() => new Socket(AddressFamily.Packet, SocketType.Raw, (ProtocolType)(ushort)IPAddress.HostToNetworkOrder((short)protocol)), device.Name, "packet socket");
            socket.Blocking = false;
            var bound = socket;
            Guard(() => bound.Bind(new LinkLayerEndPoint(device.Index, protocol)), device.Name, "bind");
            Guard(() => configure(bound), device.Name, "socket options");
            var opened = new PacketSocket(socket, device);
            socket = null;
            return opened;
        }
        finally
        {
            socket?.Dispose();
        }
    }

    private static void SetInt(Socket socket, int option, int value, string interfaceName, string what)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        Guard(() => socket.SetRawSocketOption(SolPacket, option, bytes), interfaceName, what);
    }

    private static void Guard(Action action, string interfaceName, string what) =>
        Guard(() =>
        {
            action();
            return 0;
        }, interfaceName, what);

    private static T Guard<T>(Func<T> action, string interfaceName, string what)
    {
        try
        {
            return action();
        }
        catch (SocketException e)
        {
            throw Describe(e, interfaceName, what);
        }
    }
}
