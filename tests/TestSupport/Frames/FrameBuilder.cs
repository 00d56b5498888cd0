using System.Buffers.Binary;
using System.Net.Sockets;

namespace TestSupport.Frames;

/// <summary>
/// One Ethernet frame, described layer by layer in wire order: Ethernet (and its VLAN tags), one
/// network layer (ARP, IPv4 with options, IPv6 with extension headers, or raw bytes after an
/// EtherType), one transport layer (TCP, UDP, ICMP/ICMPv6, SCTP, or raw bytes), then the payload.
/// <see cref="Build"/> fills in every length, next-header chain and checksum (IPv4 header,
/// TCP/UDP/ICMPv6 with their pseudo-header, ICMPv4, SCTP's CRC-32C) unless a method sets it: a
/// frame is well formed unless the test asks otherwise. Defaults: TTL and hop limit 64, TOS 0,
/// IPv4 identification 0x1234, TCP window 64240. Starts from <see cref="Frame"/>.
/// </summary>
public sealed partial class FrameBuilder
{
    private const int Unset = -1;

    private readonly byte[] _ethSource;
    private readonly byte[] _ethDestination;
    private readonly List<(ushort Tpid, ushort Tci)> _tags = [];
    private int _etherType = Unset;

    private NetworkKind _network;
    private byte[] _arp = [];
    private byte[] _ipSource = [];
    private byte[] _ipDestination = [];
    private byte _ttl = 64;
    private byte _tos;
    private int _flowLabel;
    private uint _identification = 0x1234;
    private bool _dontFragment;
    private int _fragmentOffset = Unset;
    private bool _moreFragments;
    private byte[] _ipv4Options = [];
    private int _headerChecksum = Unset;
    private readonly List<(byte Type, byte[] Header)> _extensions = [];
    private byte[]? _pseudoDestination;

    private TransportKind _transport;
    private byte _protocol;
    private ushort _sourcePort;
    private ushort _destinationPort;
    private ushort _tcpFlags;
    private uint _seq;
    private uint _ack;
    private ushort _window = 64240;
    private ushort _urgent;
    private byte[] _tcpOptions = [];
    private byte _icmpType;
    private byte _icmpCode;
    private uint _icmpRest;
    private uint _verificationTag;
    private byte[] _transportBytes = [];
    private int _checksum = Unset;

    private byte[] _payload = [];
    private int _padTo;

    internal FrameBuilder(byte[] source, byte[] destination)
    {
        _ethSource = source;
        _ethDestination = destination;
    }

    private enum NetworkKind
    {
        None,
        Arp,
        Ipv4,
        Ipv6,
    }

    private enum TransportKind
    {
        None,
        Tcp,
        Udp,
        Icmp,
        Sctp,
        Raw,
    }

    // ---- Ethernet ----

    /// <summary>Adds a VLAN tag (802.1Q by default; 0x88a8 for 802.1ad); tags are written outermost first, in call order.</summary>
    public FrameBuilder Vlan(ushort tci, ushort tpid = 0x8100)
    {
        _tags.Add((tpid, tci));
        return this;
    }

    /// <summary>Sets the EtherType (or 802.3 length) field instead of the network layer's; with no network layer the payload follows it.</summary>
    public FrameBuilder EtherType(ushort type)
    {
        _etherType = type;
        return this;
    }

    /// <summary>Pads the frame with zeros to <paramref name="length"/> bytes (60: the Ethernet minimum without FCS).</summary>
    public FrameBuilder PadTo(int length)
    {
        _padTo = length;
        return this;
    }

    // ---- Network layer ----

    /// <summary>An ARP packet for IPv4 over Ethernet (or the hardware and protocol types given; the address lengths stay 6 and 4).</summary>
    public FrameBuilder Arp(ushort operation, string senderMac, string senderIp, string targetMac, string targetIp, ushort hardwareType = 1, ushort protocolType = 0x0800)
    {
        SetNetwork(NetworkKind.Arp);
        _arp = new byte[28];
        Span<byte> arp = _arp;
        BinaryPrimitives.WriteUInt16BigEndian(arp, hardwareType);
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], protocolType);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], operation);
        Frame.Mac(senderMac).CopyTo(arp[8..]);
        Frame.Address(senderIp, AddressFamily.InterNetwork).CopyTo(arp[14..]);
        Frame.Mac(targetMac).CopyTo(arp[18..]);
        Frame.Address(targetIp, AddressFamily.InterNetwork).CopyTo(arp[24..]);
        return this;
    }

    /// <summary>IPv4 or IPv6, as the addresses are.</summary>
    public FrameBuilder Ip(string source, string destination) =>
        Frame.IsIpv6(source) ? Ipv6(source, destination) : Ipv4(source, destination);

    public FrameBuilder Ipv4(string source, string destination) =>
        Ipv4Addresses(Frame.Address(source, AddressFamily.InterNetwork), Frame.Address(destination, AddressFamily.InterNetwork));

    /// <summary>IPv4 with the addresses as numbers (0x0A000001 is 10.0.0.1).</summary>
    public FrameBuilder Ipv4(uint source, uint destination)
    {
        var s = new byte[4];
        var d = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(s, source);
        BinaryPrimitives.WriteUInt32BigEndian(d, destination);
        return Ipv4Addresses(s, d);
    }

    public FrameBuilder Ipv6(string source, string destination) =>
        Ipv6Addresses(Frame.Address(source, AddressFamily.InterNetworkV6), Frame.Address(destination, AddressFamily.InterNetworkV6));

    /// <summary>IPv6 with the addresses as numbers.</summary>
    public FrameBuilder Ipv6(UInt128 source, UInt128 destination)
    {
        var s = new byte[16];
        var d = new byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(s, source);
        BinaryPrimitives.WriteUInt128BigEndian(d, destination);
        return Ipv6Addresses(s, d);
    }

    /// <summary>The IPv4 TTL or the IPv6 hop limit.</summary>
    public FrameBuilder Ttl(byte ttl)
    {
        _ttl = ttl;
        return this;
    }

    /// <summary>The IPv4 TOS byte or the IPv6 traffic class.</summary>
    public FrameBuilder Tos(byte tos)
    {
        _tos = tos;
        return this;
    }

    /// <summary>The IPv6 flow label (20 bits).</summary>
    public FrameBuilder FlowLabel(int label)
    {
        RequireNetwork(NetworkKind.Ipv6, nameof(FlowLabel));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)label, 0xFFFFFu, nameof(label));
        _flowLabel = label;
        return this;
    }

    /// <summary>The IPv4 identification (16 bits) or the IPv6 fragment header's (32 bits).</summary>
    public FrameBuilder Id(uint identification)
    {
        if (_network == NetworkKind.Ipv4)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(identification, (uint)ushort.MaxValue, nameof(identification));
        }

        _identification = identification;
        return this;
    }

    /// <summary>Sets IPv4's don't-fragment bit.</summary>
    public FrameBuilder DontFragment()
    {
        RequireNetwork(NetworkKind.Ipv4, nameof(DontFragment));
        _dontFragment = true;
        return this;
    }

    /// <summary>
    /// Makes this one fragment of a larger datagram: <paramref name="offset"/> bytes into it (a
    /// multiple of 8), with more to follow or not. IPv4 sets its flags and offset; IPv6 adds a
    /// fragment header after the other extension headers. What follows is the fragment's data: a
    /// first fragment (offset 0) starts with its transport header, a later one usually carries
    /// <see cref="Payload(byte[])"/> alone. <see cref="BuildFragments"/> cuts a whole datagram instead.
    /// </summary>
    public FrameBuilder Fragment(int offset, bool more)
    {
        if (_network is not (NetworkKind.Ipv4 or NetworkKind.Ipv6))
        {
            throw new InvalidOperationException("Fragment needs IPv4 or IPv6 first.");
        }

        if (offset < 0 || offset % 8 != 0 || offset > 0xFFF8)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, "a fragment offset is a multiple of 8 from 0 to 65528");
        }

        _fragmentOffset = offset;
        _moreFragments = more;
        return this;
    }

    /// <summary>IPv4 options (a multiple of 4 bytes, at most 40), written after the fixed header.</summary>
    public FrameBuilder Ipv4Options(params byte[] options)
    {
        RequireNetwork(NetworkKind.Ipv4, nameof(Ipv4Options));
        if (options.Length % 4 != 0 || options.Length > 40)
        {
            throw new ArgumentException("IPv4 options are a multiple of 4 bytes, at most 40", nameof(options));
        }

        _ipv4Options = options;
        return this;
    }

    /// <summary>Writes <paramref name="checksum"/> as the IPv4 header checksum instead of the right one.</summary>
    public FrameBuilder HeaderChecksum(ushort checksum)
    {
        RequireNetwork(NetworkKind.Ipv4, nameof(HeaderChecksum));
        _headerChecksum = checksum;
        return this;
    }

    /// <summary>
    /// Appends an IPv6 extension header of type <paramref name="type"/> (0 hop-by-hop, 43 routing,
    /// 60 destination options, 51 AH...): <paramref name="header"/> is the whole header, its length
    /// byte included; its first byte (next header) is filled in.
    /// </summary>
    public FrameBuilder Extension(byte type, params byte[] header)
    {
        RequireNetwork(NetworkKind.Ipv6, nameof(Extension));
        if (header.Length < 2)
        {
            throw new ArgumentException("an extension header has at least its next-header and length bytes", nameof(header));
        }

        _extensions.Add((type, (byte[])header.Clone()));
        return this;
    }

    /// <summary>A hop-by-hop options header holding <paramref name="options"/>, padded with PadN to a multiple of 8 bytes.</summary>
    public FrameBuilder HopByHop(params byte[] options) => Extension(0, OptionsHeader(options));

    /// <summary>A destination options header holding <paramref name="options"/>, padded with PadN to a multiple of 8 bytes.</summary>
    public FrameBuilder DestinationOptions(params byte[] options) => Extension(60, OptionsHeader(options));

    /// <summary>The destination of the transport checksum's pseudo-header, when a routing header makes it differ from the IPv6 destination (RFC 8200 8.1).</summary>
    public FrameBuilder PseudoHeaderDestination(string finalDestination)
    {
        RequireNetwork(NetworkKind.Ipv6, nameof(PseudoHeaderDestination));
        _pseudoDestination = Frame.Address(finalDestination, AddressFamily.InterNetworkV6);
        return this;
    }

    // ---- Transport layer ----

    /// <summary>A TCP segment (20-byte header plus <see cref="TcpOptions"/>).</summary>
    public FrameBuilder Tcp(ushort sourcePort, ushort destinationPort, ushort flags = 0, uint seq = 0, uint ack = 0, ushort window = 64240)
    {
        SetTransport(TransportKind.Tcp, 6);
        (_sourcePort, _destinationPort, _tcpFlags, _seq, _ack, _window) = (sourcePort, destinationPort, flags, seq, ack, window);
        return this;
    }

    /// <summary>TCP options (a multiple of 4 bytes, at most 40); the data offset follows.</summary>
    public FrameBuilder TcpOptions(params byte[] options)
    {
        RequireTransport(TransportKind.Tcp, nameof(TcpOptions));
        if (options.Length % 4 != 0 || options.Length > 40)
        {
            throw new ArgumentException("TCP options are a multiple of 4 bytes, at most 40", nameof(options));
        }

        _tcpOptions = options;
        return this;
    }

    /// <summary>The TCP urgent pointer.</summary>
    public FrameBuilder Urgent(ushort pointer)
    {
        RequireTransport(TransportKind.Tcp, nameof(Urgent));
        _urgent = pointer;
        return this;
    }

    public FrameBuilder Udp(ushort sourcePort, ushort destinationPort)
    {
        SetTransport(TransportKind.Udp, 17);
        (_sourcePort, _destinationPort) = (sourcePort, destinationPort);
        return this;
    }

    /// <summary>
    /// An ICMP message over IPv4 or ICMPv6 over IPv6: type, code and the 4 bytes after the checksum
    /// (<paramref name="rest"/>: identifier and sequence, an MTU, a pointer, NA flags...); the body is the payload.
    /// </summary>
    public FrameBuilder Icmp(byte type, byte code = 0, uint rest = 0)
    {
        SetTransport(TransportKind.Icmp, _network == NetworkKind.Ipv6 ? (byte)58 : (byte)1);
        (_icmpType, _icmpCode, _icmpRest) = (type, code, rest);
        return this;
    }

    /// <summary>An echo request or reply (8/0 over IPv4, 128/129 over IPv6) with its identifier and sequence number.</summary>
    public FrameBuilder IcmpEcho(byte type, ushort identifier, ushort sequence = 1) => Icmp(type, 0, ((uint)identifier << 16) | sequence);

    /// <summary>
    /// An ICMP error (destination unreachable, time exceeded...) quoting the IP datagram of
    /// <paramref name="offendingFrame"/> (an Ethernet frame), cut to <paramref name="quotedBytes"/>
    /// bytes when given (RFC 792: the IP header and 8 bytes, 28 for a plain IPv4 header).
    /// </summary>
    public FrameBuilder IcmpError(byte type, byte code, byte[] offendingFrame, int? quotedBytes = null, uint rest = 0)
    {
        ArgumentNullException.ThrowIfNull(offendingFrame);
        Icmp(type, code, rest);
        var datagram = offendingFrame.AsSpan(NetworkOffset(offendingFrame));
        _payload = datagram[..Math.Min(quotedBytes ?? datagram.Length, datagram.Length)].ToArray();
        return this;
    }

    /// <summary>An SCTP packet: common header with its verification tag and CRC-32C (RFC 9260), then <paramref name="chunks"/>.</summary>
    public FrameBuilder Sctp(ushort sourcePort, ushort destinationPort, uint verificationTag, params byte[] chunks)
    {
        SetTransport(TransportKind.Sctp, 132);
        (_sourcePort, _destinationPort, _verificationTag) = (sourcePort, destinationPort, verificationTag);
        _payload = chunks;
        return this;
    }

    /// <summary>
    /// What follows the IP header, written as given under protocol (next header) number
    /// <paramref name="protocol"/>: IGMP or GRE, a later fragment's data, a truncated or malformed
    /// header, an extension-header chain spelled out byte by byte. Nothing is computed.
    /// </summary>
    public FrameBuilder Transport(byte protocol, params byte[] bytes)
    {
        SetTransport(TransportKind.Raw, protocol);
        _transportBytes = bytes;
        return this;
    }

    /// <summary>Writes <paramref name="checksum"/> as the transport checksum instead of the right one (0 for a UDP datagram without one).</summary>
    public FrameBuilder Checksum(ushort checksum)
    {
        if (_transport is not (TransportKind.Tcp or TransportKind.Udp or TransportKind.Icmp or TransportKind.Sctp))
        {
            throw new InvalidOperationException("Checksum needs TCP, UDP, ICMP or SCTP first.");
        }

        _checksum = checksum;
        return this;
    }

    // ---- Payload ----

    /// <summary>The bytes after the last header (the transport's, or the network's, or Ethernet's).</summary>
    public FrameBuilder Payload(params byte[] payload)
    {
        _payload = payload;
        return this;
    }

    /// <summary><paramref name="length"/> bytes counting up from 0 (0, 1, ... 255, 0, ...): data whose order a test can see.</summary>
    public FrameBuilder Payload(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _payload = new byte[length];
        for (int i = 0; i < length; i++)
        {
            _payload[i] = (byte)i;
        }

        return this;
    }

    private FrameBuilder Ipv4Addresses(byte[] source, byte[] destination)
    {
        SetNetwork(NetworkKind.Ipv4);
        (_ipSource, _ipDestination) = (source, destination);
        return this;
    }

    private FrameBuilder Ipv6Addresses(byte[] source, byte[] destination)
    {
        SetNetwork(NetworkKind.Ipv6);
        (_ipSource, _ipDestination) = (source, destination);
        return this;
    }

    private void SetNetwork(NetworkKind network)
    {
        if (_network != NetworkKind.None)
        {
            throw new InvalidOperationException($"The frame already has a {_network} layer.");
        }

        _network = network;
    }

    private void SetTransport(TransportKind transport, byte protocol)
    {
        if (_network is not (NetworkKind.Ipv4 or NetworkKind.Ipv6))
        {
            throw new InvalidOperationException($"{transport} needs IPv4 or IPv6 first.");
        }

        if (_transport != TransportKind.None)
        {
            throw new InvalidOperationException($"The frame already has a {_transport} layer.");
        }

        _transport = transport;
        _protocol = protocol;
    }

    private void RequireNetwork(NetworkKind network, string method)
    {
        if (_network != network)
        {
            throw new InvalidOperationException($"{method} needs {network} first.");
        }
    }

    private void RequireTransport(TransportKind transport, string method)
    {
        if (_transport != transport)
        {
            throw new InvalidOperationException($"{method} needs {transport} first.");
        }
    }

    /// <summary>An options header (hop-by-hop, destination): next header, length, the options, PadN to a multiple of 8.</summary>
    private static byte[] OptionsHeader(byte[] options)
    {
        int length = (2 + options.Length + 7) / 8 * 8;
        var header = new byte[length];
        options.CopyTo(header, 2);
        header[1] = (byte)((length / 8) - 1);
        int pad = length - 2 - options.Length;
        if (pad == 1)
        {
            header[2 + options.Length] = 0; // Pad1
        }
        else if (pad > 1)
        {
            header[2 + options.Length] = 1; // PadN
            header[3 + options.Length] = (byte)(pad - 2);
        }

        return header;
    }

    /// <summary>Where the IP datagram of an Ethernet frame starts: after the MACs, the VLAN tags and the EtherType.</summary>
    private static int NetworkOffset(byte[] frame)
    {
        int offset = 12;
        while (offset + 4 <= frame.Length && BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(offset)) is 0x8100 or 0x88a8)
        {
            offset += 4;
        }

        return offset + 2;
    }
}
