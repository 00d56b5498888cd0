namespace Actors.Bridge;

/// <summary>What the bridge actor is configured with.</summary>
public sealed record BridgeSettings
{
    /// <summary>How often rules are checked for idle and hard timeouts (Open vSwitch: about once a second).</summary>
    public TimeSpan ExpiryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a fan-out (dump-flows, pmd-stats-show, expiry) waits for the PMDs before answering with what it has.</summary>
    public TimeSpan GatherTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
