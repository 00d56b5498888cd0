using System.Net.Sockets;

namespace Host.Control;

/// <summary>The limits that keep one client from hurting the others or the datapath.</summary>
/// <param name="MaxConnections">Clients served at once.</param>
/// <param name="MaxRequestBytes">The largest request accepted; a longer one is answered with an error and its connection closed.</param>
/// <param name="IdleTimeout">How long a client may stay silent before its request, or leave an answer unread, before it is disconnected.</param>
internal sealed record ControlServerOptions(int MaxConnections, int MaxRequestBytes, TimeSpan IdleTimeout);

/// <summary>
/// The unixctl server of `run` (Open vSwitch's lib/unixctl.c): accepts clients on the control
/// socket and serves each on its own <see cref="ControlConnection"/>, which tells Open vSwitch's
/// framing (ovs-appctl) from ours per connection.
///
/// Nobody can lock the others out: at most <see cref="ControlServerOptions.MaxConnections"/> clients
/// at once, and when all are taken a new client takes the place of the one that has been silent the
/// longest (a client waiting for its request); only when every client has a command running is the
/// new one refused. Silent clients are also dropped after the idle timeout, and so are clients that
/// leave an answer unread that long. Stopping the server cancels every client's work and closes
/// every connection, whatever the clients do: a client that does not read cannot keep `run` alive.
/// </summary>
internal sealed class ControlServer : IAsyncDisposable
{
    private static readonly TimeSpan StopPatience = TimeSpan.FromSeconds(5);
    private readonly Socket _listener;
    private readonly string _path;
    private readonly IControlHandler _handler;
    private readonly ControlServerOptions _options;
    private readonly VlogModules _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<long, (ControlConnection Connection, Task Served)> _clients = [];
    private long _nextClient;
    private long _evictions;
    private Task _acceptLoop = Task.CompletedTask;

    private ControlServer(Socket listener, string path, IControlHandler handler, ControlServerOptions options, VlogModules log)
    {
        _listener = listener;
        _path = path;
        _handler = handler;
        _options = options;
        _log = log;
    }

    /// <summary>The clients being served now.</summary>
    public int ActiveConnections
    {
        get
        {
            lock (_lock)
            {
                return _clients.Count;
            }
        }
    }

    /// <summary>Clients disconnected to make room for a new one, or for being idle too long, since the start.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Starts serving on <paramref name="listener"/> (from <see cref="ControlSocket.Listen"/>), which the server owns from now on.</summary>
    public static ControlServer Start(Socket listener, string path, IControlHandler handler, ControlServerOptions options, VlogModules log)
    {
        var server = new ControlServer(listener, path, handler, options, log);
        server._acceptLoop = Task.Run(server.AcceptLoopAsync);
        return server;
    }

    /// <summary>Stops accepting, cancels every client's work, closes every connection and removes the socket file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        Task[] served;
        lock (_lock)
        {
            foreach (var (connection, _) in _clients.Values)
            {
                connection.Abort();
            }

            served = _clients.Values.Select(c => c.Served).ToArray();
        }

        // Aborted sockets end their reads and writes at once; the bound only guards against a bug.
        await Task.WhenAll(served).WaitAsync(StopPatience).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        try
        {
            File.Delete(_path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The socket file is someone else's concern now; the next run replaces a stale one.
        }
    }

    internal void CountEviction() => Interlocked.Increment(ref _evictions);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            Admit(client);
        }
    }

    /// <summary>Serves <paramref name="client"/>, making room by evicting the longest-silent client if needed, or refuses it.</summary>
    private void Admit(Socket client)
    {
        ControlConnection? evicted = null;
        lock (_lock)
        {
            if (_clients.Count >= _options.MaxConnections)
            {
                evicted = _clients.Values.Select(c => c.Connection).Where(c => c.IsWaiting).MinBy(c => c.WaitingSince);
                if (evicted is null)
                {
                    _ = RefuseAsync(client);
                    return;
                }

                // Out of the count now; its task removes nothing else when it ends.
                _clients.Remove(evicted.Id);
            }

            long id = ++_nextClient;
            var connection = new ControlConnection(id, client, _handler, _options, _log, this, _stop.Token);

            // In the table before its task can end and remove it.
            _clients[id] = (connection, Task.CompletedTask);
            _clients[id] = (connection, ServeAsync(connection));
        }

        if (evicted is not null)
        {
            // Aborted outside the lock: cancellation runs the evicted client's continuations.
            _log.Log("control", VlogLevel.Info, $"client {evicted.Id} evicted: silent while {_options.MaxConnections} clients are connected and another one came");
            CountEviction();
            evicted.Abort();
        }
    }

    private async Task ServeAsync(ControlConnection connection)
    {
        await Task.Yield();
        try
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                _clients.Remove(connection.Id);
            }
        }
    }

    private async Task RefuseAsync(Socket client)
    {
        await Task.Yield();
        _log.Log("control", VlogLevel.Warn, $"client refused: {_options.MaxConnections} clients have commands running");
        using (client)
        {
            try
            {
                // Our framing's error line: a client of ours prints it; ovs-appctl reports a protocol error.
                using var send = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                byte[] error = JsonRpc.Error(null, JsonRpcCodes.TooManyConnections, $"too many clients (at most {_options.MaxConnections}, all with commands running); try again later");
                await client.SendAsync(error, SocketFlags.None, send.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // It is gone or does not read: closing is all that is left.
            }
        }
    }
}
