namespace Host.Control;

/// <summary>Runs the control channel's commands; the server only frames and dispatches.</summary>
internal interface IControlHandler
{
    /// <summary>Runs <paramref name="method"/> with its arguments.</summary>
    /// <exception cref="ControlException">Unknown method, bad arguments, or the command failed.</exception>
    Task<ControlReply> HandleAsync(string method, IReadOnlyList<string> args, CancellationToken cancellation);
}
