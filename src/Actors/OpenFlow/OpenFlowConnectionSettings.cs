namespace Actors.OpenFlow;

/// <summary>What one OpenFlow connection actor is configured with.</summary>
/// <param name="Name">For the log: "punix:/run/.../br0.mgmt#3", "tcp:127.0.0.1:6653".</param>
/// <param name="ProbeInterval">Idle this long, the switch sends an echo request; no answer within as long again closes the connection (Open vSwitch's inactivity probe, 5 s).</param>
/// <param name="MaxQueuedRequests">Requests waiting behind the one in progress; more close the connection (a client that does not read its answers).</param>
/// <param name="MaxQueuedBytes">Unsent bytes above which asynchronous messages (packet_in...) are dropped and counted.</param>
public sealed record OpenFlowConnectionSettings(
    string Name,
    OpenFlowConnectionKind Kind,
    TimeSpan ProbeInterval,
    int MaxQueuedRequests = 4096,
    long MaxQueuedBytes = 4 << 20,
    TimeSpan? RequestTimeout = null);
