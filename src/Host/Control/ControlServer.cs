using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using Akka.Actor;

namespace Host.Control;

/// <summary>
/// The unixctl server of `run` (Open vSwitch's lib/unixctl.c): accepts clients on the control
/// socket, reads one JSON-RPC request per line from each, runs it through the handler and writes
/// the response. Each client has its own loop and requests are answered in order; at most
/// <c>maxConnections</c> clients at once (one more gets an error and is closed). A bad line gets
/// an error response and the connection goes on; a line over <c>maxRequestBytes</c> gets an error
/// and the connection is closed. Nothing a client sends can stop the server: every failure of a
/// request becomes its error response.
/// </summary>
internal sealed class ControlServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly string _path;
    private readonly IControlHandler _handler;
    private readonly int _maxConnections;
    private readonly int _maxRequestBytes;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, Task> _clients = new();
    private long _nextClient;
    private Task _acceptLoop = Task.CompletedTask;

    private ControlServer(Socket listener, string path, IControlHandler handler, int maxConnections, int maxRequestBytes)
    {
        _listener = listener;
        _path = path;
        _handler = handler;
        _maxConnections = maxConnections;
        _maxRequestBytes = maxRequestBytes;
    }

    /// <summary>The clients being served now.</summary>
    public int ActiveConnections => _clients.Count;

    /// <summary>Starts serving on <paramref name="listener"/> (from <see cref="ControlSocket.Listen"/>), which the server owns from now on.</summary>
    public static ControlServer Start(Socket listener, string path, IControlHandler handler, int maxConnections, int maxRequestBytes)
    {
        var server = new ControlServer(listener, path, handler, maxConnections, maxRequestBytes);
        server._acceptLoop = Task.Run(server.AcceptLoopAsync);
        return server;
    }

    /// <summary>Stops accepting, cancels what clients are waiting for, closes them and removes the socket file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        await Task.WhenAll(_clients.Values).ConfigureAwait(false);
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

            // The placeholder is in the table before the client's task can end and remove it.
            long id = ++_nextClient;
            bool refuse = _clients.Count >= _maxConnections;
            _clients[id] = Task.CompletedTask;
            var served = refuse ? RefuseAsync(client, id) : ServeAsync(client, id);
            _clients.TryUpdate(id, served, Task.CompletedTask);
        }
    }

    private async Task RefuseAsync(Socket client, long id)
    {
        await Task.Yield();
        using (client)
        {
            await TrySendAsync(client, JsonRpc.Error(null, JsonRpcCodes.TooManyConnections, $"too many clients (at most {_maxConnections}); try again later")).ConfigureAwait(false);
        }

        _clients.TryRemove(id, out _);
    }

    private async Task ServeAsync(Socket client, long id)
    {
        await Task.Yield();
        try
        {
            await ServeAsync(client).ConfigureAwait(false);
        }
        finally
        {
            _clients.TryRemove(id, out _);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        {
            var stream = new NetworkStream(client, ownsSocket: false);
            await using (stream.ConfigureAwait(false))
            {
                var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
                try
                {
                    await ReadRequestsAsync(client, reader).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    // The client went away or the server is stopping: nothing of this client is left.
                }
                finally
                {
                    await reader.CompleteAsync().ConfigureAwait(false);
                }
            }
        }
    }

    private async Task ReadRequestsAsync(Socket client, PipeReader reader)
    {
        var token = _stop.Token;
        while (true)
        {
            var read = await reader.ReadAsync(token).ConfigureAwait(false);
            var buffer = read.Buffer;
            while (TryTakeLine(ref buffer, out var line))
            {
                if (line.Length > _maxRequestBytes)
                {
                    await TooLargeAsync(client).ConfigureAwait(false);
                    return;
                }

                if (!await AnswerAsync(client, line, token).ConfigureAwait(false))
                {
                    return;
                }
            }

            if (buffer.Length > _maxRequestBytes)
            {
                await TooLargeAsync(client).ConfigureAwait(false);
                return;
            }

            if (read.IsCompleted)
            {
                // A last request without its newline is still a request.
                if (!buffer.IsEmpty && !IsBlank(buffer))
                {
                    await AnswerAsync(client, buffer, token).ConfigureAwait(false);
                }

                return;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>
    /// Answers an oversized request, then reads and discards what the client still sends (for a
    /// bounded time) before closing: closing with unread data would reset the connection and the
    /// client might lose the answer.
    /// </summary>
    private async Task TooLargeAsync(Socket client)
    {
        if (!await TrySendAsync(client, JsonRpc.Error(null, JsonRpcCodes.RequestTooLarge, $"request longer than {_maxRequestBytes} bytes; closing the connection")).ConfigureAwait(false))
        {
            return;
        }

        client.Shutdown(SocketShutdown.Send);
        using var linger = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        linger.CancelAfter(TimeSpan.FromSeconds(5));
        var discard = new byte[64 * 1024];
        while (await client.ReceiveAsync(discard, SocketFlags.None, linger.Token).ConfigureAwait(false) > 0)
        {
        }
    }

    /// <summary>Answers one request line; false when the client is gone.</summary>
    private async Task<bool> AnswerAsync(Socket client, ReadOnlySequence<byte> line, CancellationToken token)
    {
        if (IsBlank(line))
        {
            return true;
        }

        byte[]? response;
        string? id = null;
        try
        {
            var request = JsonRpc.Parse(line, out id);
            var reply = await _handler.HandleAsync(request.Method, request.Params, token).ConfigureAwait(false);
            response = request.Id is null ? null : JsonRpc.Result(request.Id, reply);
        }
        catch (ControlException e)
        {
            response = JsonRpc.Error(id, e.Code, e.Message);
        }
        catch (AskTimeoutException)
        {
            response = JsonRpc.Error(id, JsonRpcCodes.Timeout, "the datapath did not answer in time");
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            response = JsonRpc.Error(id, JsonRpcCodes.CommandFailed, "the datapath is shutting down");
        }
        catch (Exception e)
        {
            // Whatever a command throws is the client's error response, never the server's end.
            response = JsonRpc.Error(id, JsonRpcCodes.InternalError, e.GetType().Name + ": " + e.Message);
        }

        return response is null || await TrySendAsync(client, response).ConfigureAwait(false);
    }

    private static async Task<bool> TrySendAsync(Socket client, byte[] response)
    {
        try
        {
            int sent = 0;
            while (sent < response.Length)
            {
                sent += await client.SendAsync(response.AsMemory(sent), SocketFlags.None).ConfigureAwait(false);
            }

            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    private static bool TryTakeLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        var newline = buffer.PositionOf((byte)'\n');
        if (newline is null)
        {
            line = default;
            return false;
        }

        line = buffer.Slice(0, newline.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
        return true;
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            foreach (byte b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
