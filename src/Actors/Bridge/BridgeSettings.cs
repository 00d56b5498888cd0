namespace Actors.Bridge;

/// <summary>What the bridge actor is configured with (HOCON `datapath`, read by the Host; no defaults here: the embedded datapath.conf holds them).</summary>
public sealed record BridgeSettings
{
    /// <summary>datapath.flow-expiry-interval: how often rules are checked for idle and hard timeouts (Open vSwitch: about once a second).</summary>
    public required TimeSpan ExpiryInterval { get; init; }

    /// <summary>datapath.gather-timeout: how long a fan-out (dump-flows, pmd-stats-show, expiry) waits for the PMDs before answering with what it has.</summary>
    public required TimeSpan GatherTimeout { get; init; }

    /// <summary>datapath.queues-per-port: receive queues of a port created with <see cref="CreatePort"/> and no n_rxq option; 0 means one per PMD.</summary>
    public required int PortQueues { get; init; }

    /// <summary>datapath.port-window: batches a created port may have outstanding at each PMD.</summary>
    public required int PortWindow { get; init; }

    /// <summary>datapath.datapath-id: the OpenFlow datapath id (ovs-ofctl show's dpid).</summary>
    public required ulong DatapathId { get; init; }
}
