using Traffic;

namespace Bench.Firewall;

/// <summary>What one bench run sends and for how long (PMDs, bypass and the rest come from the datapath settings).</summary>
/// <param name="Warmup">Steady traffic after the handshakes and before the timed window (JIT, caches, pools).</param>
/// <param name="Nat">The NAT cell: null (the plain firewall) or "snat" (every outbound connection translated, <see cref="NatFirewall"/>).</param>
internal sealed record BenchOptions(TrafficProtocol Protocol, int Connections, TimeSpan Duration, TimeSpan Warmup, string? Nat = null)
{
    /// <summary>The command-line and JSON name of a protocol.</summary>
    public static string NameOf(TrafficProtocol protocol) => protocol == TrafficProtocol.Tcp ? "tcp" : "udp";
}

/// <summary>The bench could not measure (a connection was not established, the datapath did not answer).</summary>
internal sealed class BenchFailedException : Exception
{
    public BenchFailedException(string message)
        : base(message)
    {
    }

    public BenchFailedException()
    {
    }

    public BenchFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
