namespace Datapath.Pipeline;

/// <summary>
/// The <see cref="ConntrackRequest"/>s of one core, reused: opened by the gatherer, given back when
/// fully answered (or sent empty), so a steady state allocates none. Not thread-safe: one owner.
/// </summary>
internal sealed class ConntrackRequestPool
{
    private readonly Stack<ConntrackRequest> _spare = new();

    public ConntrackRequest Rent() => _spare.Count > 0 ? _spare.Pop() : new ConntrackRequest();

    /// <summary>Takes a request back, dropping its references to action lists.</summary>
    public void Return(ConntrackRequest request)
    {
        request.ForgetActions();
        _spare.Push(request);
    }
}
