using Datapath.Conntrack;

namespace Datapath.Pipeline;

/// <summary>
/// Where a <see cref="PmdCore"/> sends its conntrack work: a connection table in the same thread, or
/// the conntrack shard actors. Answers come back through <see cref="PmdCore.CompleteConntrack"/>,
/// at once or later, in any order across inputs, but in submission order for the inputs of one
/// connection (both directions of a connection reach one shard, and a shard answers in order).
/// </summary>
public interface IConntrackStage
{
    /// <summary>Starts conntrack on every input of <paramref name="request"/>, answering through <paramref name="core"/>; keeps no reference to the request past its last answer.</summary>
    void Submit(ConntrackRequest request, PmdCore core);

    /// <summary>
    /// <paramref name="core"/> built a combined flow for <paramref name="connection"/>: the stage
    /// should call <see cref="PmdCore.RevokeShortcuts"/> once the connection leaves the established
    /// state or the table. A stage that never does is still safe (the guard decides each packet);
    /// the combined flow then lives until its guard fails or its megaflows die.
    /// </summary>
    void WatchShortcut(in ConntrackKey connection, uint connectionHash, PmdCore core)
    {
    }
}
