namespace Host.Tests.Support;

/// <summary>
/// Runs a blocking call (a whole `run` through <c>Program.Run</c>, which waits on its job as the
/// command line's main thread does) on a thread of its own. On a thread-pool thread it would hold
/// that thread for the whole run: a few such runs at once starved the pool that the datapath's own
/// actors, sockets and Akka's scheduler need, and a datapath then took seconds to install its first
/// table or answer ovs-ofctl.
/// </summary>
public static class OwnThread
{
    public static Task<T> Run<T>(Func<T> call) =>
        Task.Factory.StartNew(call, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
