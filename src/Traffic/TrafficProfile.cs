namespace Traffic;

/// <summary>
/// What a <see cref="TrafficGenerator"/> simulates: two hosts, the client side behind port 1 and the
/// server side behind port 2, keeping <see cref="Connections"/> connections alive between them.
/// The values the configuration sets (HOCON `datapath.generator`) are required, with no defaults
/// here: the embedded datapath.conf holds them, once. The rest (addresses, ports, MTU, resets) are
/// not configured and keep their only default below.
/// </summary>
public sealed record TrafficProfile
{
    /// <summary>Concurrent connections; a finished or timed-out one is replaced at once by a new one.</summary>
    public required int Connections { get; init; }

    /// <summary>Share of new connections that are TCP, in percent (the three shares sum to 100).</summary>
    public required int TcpPercent { get; init; }

    public required int UdpPercent { get; init; }

    public required int IcmpPercent { get; init; }

    /// <summary>Lengths of data-bearing frames; at least 64 and at most <see cref="Mtu"/> + 14.</summary>
    public required FrameSizeRange FrameSize { get; init; }

    /// <summary>Frames per second each port's host sends at most; 0 sends as fast as the caller asks.</summary>
    public required long RatePps { get; init; }

    /// <summary>The largest IP datagram; the TCP MSS option announces <c>Mtu - 40</c>.</summary>
    public int Mtu { get; init; } = 1500;

    /// <summary>A connection that neither sends nor receives anything for this long is given up and replaced.</summary>
    public required TimeSpan ConnectionTimeout { get; init; }

    /// <summary>Request/response exchanges per connection before it closes (TCP) or is replaced (UDP, ICMP).</summary>
    public required int RequestsPerConnection { get; init; }

    /// <summary>Share of connections opened by the server side (port 2) towards the client side, in percent.</summary>
    public required int ServerInitiatedPercent { get; init; }

    /// <summary>Share of TCP connections that end with a RST instead of a FIN exchange, in percent.</summary>
    public int ResetPercent { get; init; }

    /// <summary>Addresses of the client side (port 1).</summary>
    public Ipv4Network ClientNetwork { get; init; } = new(0x0A00_0000, 16);

    /// <summary>Addresses of the server side (port 2).</summary>
    public Ipv4Network ServerNetwork { get; init; } = new(0x0A01_0000, 16);

    /// <summary>The listening port of TCP connections (on whichever side responds).</summary>
    public ushort TcpServicePort { get; init; } = 80;

    /// <summary>The listening port of UDP connections.</summary>
    public ushort UdpServicePort { get; init; } = 5001;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first property out of range.</summary>
    public void Validate()
    {
        Check(Connections is >= 1 and <= 1 << 24, nameof(Connections), "must be between 1 and 16777216");
        Check(TcpPercent >= 0 && UdpPercent >= 0 && IcmpPercent >= 0 && TcpPercent + UdpPercent + IcmpPercent == 100, nameof(TcpPercent), "TcpPercent, UdpPercent and IcmpPercent must be non-negative and sum to 100");
        Check(Mtu is >= FrameSizeRange.Minimum - 14 and <= 65535, nameof(Mtu), "must be between 50 and 65535");
        Check(FrameSize.Min >= FrameSizeRange.Minimum && FrameSize.Max >= FrameSize.Min && FrameSize.Max <= Mtu + 14, nameof(FrameSize), $"must satisfy 64 <= Min <= Max <= Mtu + 14 ({Mtu + 14})");
        Check(RatePps >= 0, nameof(RatePps), "must not be negative");
        Check(ConnectionTimeout > TimeSpan.Zero, nameof(ConnectionTimeout), "must be positive");
        Check(RequestsPerConnection >= 1, nameof(RequestsPerConnection), "must be at least 1");
        Check(ServerInitiatedPercent is >= 0 and <= 100, nameof(ServerInitiatedPercent), "must be between 0 and 100");
        Check(ResetPercent is >= 0 and <= 100, nameof(ResetPercent), "must be between 0 and 100");
        Check(TcpServicePort is > 0 and < TrafficGenerator.FirstEphemeralPort, nameof(TcpServicePort), "must be between 1 and 1023");
        Check(UdpServicePort > 0, nameof(UdpServicePort), "must not be 0");
        Check(ClientNetwork.Address != ServerNetwork.Address || ClientNetwork.PrefixLength != ServerNetwork.PrefixLength, nameof(ServerNetwork), "must differ from ClientNetwork");
    }

    private static void Check(bool ok, string name, string message)
    {
        if (!ok)
        {
            throw new ArgumentException($"TrafficProfile.{name} {message}.", name);
        }
    }
}
