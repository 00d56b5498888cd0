namespace Datapath.Conntrack.Fragments;

/// <summary>Limits of an <see cref="IpReassembler"/>; defaults follow Open vSwitch's lib/ipf.c.</summary>
public sealed record ReassemblyOptions
{
    /// <summary>Fragments held at once over all datagrams (OVS IPF_MAX_FRAGS_DEFAULT).</summary>
    public int MaxHeldFragments { get; init; } = 1000;

    /// <summary>Bytes of held fragments at once (frames, L2 included).</summary>
    public long MaxHeldBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Fragments one datagram may have.</summary>
    public int MaxFragmentsPerDatagram { get; init; } = 64;

    /// <summary>How long an incomplete datagram waits for its missing fragments (OVS IPF_FRAG_LIST_TIMEOUT).</summary>
    public long TimeoutMs { get; init; } = 15_000;

    /// <summary>Smallest IPv4 datagram size (L3) of a fragment that is not the last (OVS IPF_V4_FRAG_SIZE_MIN_DEF).</summary>
    public int MinIpv4FragmentSize { get; init; } = 1200;

    /// <summary>Smallest IPv6 datagram size (L3) of a fragment that is not the last (OVS IPF_V6_FRAG_SIZE_MIN_DEF, the IPv6 minimum MTU).</summary>
    public int MinIpv6FragmentSize { get; init; } = 1280;
}
