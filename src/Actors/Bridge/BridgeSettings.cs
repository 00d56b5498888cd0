namespace Actors.Bridge;

/// <summary>What the bridge actor is configured with.</summary>
public sealed record BridgeSettings
{
    /// <summary>How often rules are checked for idle and hard timeouts (Open vSwitch: about once a second).</summary>
    public TimeSpan ExpiryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a fan-out (dump-flows, pmd-stats-show, expiry) waits for the PMDs before answering with what it has.</summary>
    public TimeSpan GatherTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Receive queues of a port created with <see cref="CreatePort"/> and no n_rxq option; 0 means one per PMD.</summary>
    public int PortQueues { get; init; }

    /// <summary>Batches a created port may have outstanding at each PMD (datapath.port-window).</summary>
    public int PortWindow { get; init; } = 4;

    /// <summary>The OpenFlow datapath id (ovs-ofctl show's dpid); "OVSACT" in ASCII by default.</summary>
    public ulong DatapathId { get; init; } = 0x0000_4f56_5341_4354UL;
}
