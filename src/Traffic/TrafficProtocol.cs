namespace Traffic;

/// <summary>The kinds of connection the traffic generator keeps alive.</summary>
public enum TrafficProtocol : byte
{
    /// <summary>TCP: handshake, request/response exchanges, FIN teardown (either side first) or RST.</summary>
    Tcp,

    /// <summary>UDP request/response exchanges.</summary>
    Udp,

    /// <summary>ICMP echo request/reply exchanges under one identifier.</summary>
    Icmp,
}
