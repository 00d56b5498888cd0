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
}
