using Datapath.Bypass;
using Datapath.Conntrack;

namespace Datapath.Pipeline;

/// <summary>
/// Where a <see cref="PmdCore"/> sends its conntrack work: a connection table in the same thread, or
/// the conntrack shard actors. A stage is made with the <see cref="IConntrackAnswers"/> it answers
/// to (the core hands them to the stage's factory once) and answers at once, from inside
/// <see cref="Submit"/>, or later, in any order across inputs, but in submission order for the
/// inputs of one connection (both directions of a connection reach one owner, which answers in order).
/// As a <see cref="IBypassFlowWatcher"/> it is told of each per-connection bypass flow, so the
/// connection's owner can revoke it; a stage that does nothing with that is still safe.
/// </summary>
public interface IConntrackStage : IBypassFlowWatcher
{
    /// <summary>Starts conntrack on every input of <paramref name="request"/>; keeps no reference to the request past its last answer.</summary>
    void Submit(ConntrackRequest request);

    void IBypassFlowWatcher.Watch(in ConntrackKey connection, uint connectionHash)
    {
    }
}

/// <summary>
/// What a conntrack stage answers to: the core whose requests it runs. Calls may come from inside
/// <see cref="IConntrackStage.Submit"/> (a stage that answers in place) or later, on the core's owner
/// thread.
/// </summary>
public interface IConntrackAnswers
{
    /// <summary>
    /// The answers for inputs <paramref name="indices"/> of request <paramref name="requestId"/>:
    /// each input's packets take its result's ct fields and go on with the actions after the ct.
    /// Answers for an unknown request or an input answered before are ignored and counted.
    /// </summary>
    void Complete(long requestId, ReadOnlySpan<int> indices, ReadOnlySpan<ConntrackResult> results);

    /// <summary>Answers every input of a request at once, in order.</summary>
    void Complete(long requestId, ReadOnlySpan<ConntrackResult> results);

    /// <summary>
    /// Gives up on inputs whose answer will never come (the stage lost it): their packets are dropped
    /// and counted. Inputs answered already, or an unknown request, are ignored.
    /// </summary>
    void Abandon(long requestId, ReadOnlySpan<int> indices);

    /// <summary>
    /// <paramref name="connection"/> left the established state (or the table): its bypass flows,
    /// both directions, go. Safe at any time. Returns how many were removed.
    /// </summary>
    int RevokeBypassFlows(in ConntrackKey connection, uint connectionHash);
}
