using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using Akka.Actor;

namespace Host.Control;

/// <summary>The client left, stopped reading, stayed silent too long, or was evicted: nothing more is said to it.</summary>
internal sealed class ClientGoneException : Exception
{
    public ClientGoneException()
    {
    }

    public ClientGoneException(string message)
        : base(message)
    {
    }

    public ClientGoneException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>
/// One client of the control socket. Its first request tells the framing: an object with a
/// "jsonrpc" member, or anything that is not an object, is our own client's (JSON-RPC 2.0, one
/// request per line, <see cref="JsonRpc"/>); an object without it is Open vSwitch's (ovs-appctl:
/// JSON-RPC 1.0 objects with no delimiter, <see cref="OvsJsonRpc"/>). Requests are answered one at a
/// time, in order (as unixctl does). Every wait is bounded: a request must arrive whole within the
/// idle timeout, and every piece of an answer must be taken by the client within it. A streamed
/// answer asks for its next chunk only once the socket took the previous one, and stops when the
/// client goes away.
/// </summary>
internal sealed class ControlConnection
{
    private const int WriteSlice = 64 * 1024;
    private readonly Socket _socket;
    private readonly IControlHandler _handler;
    private readonly ControlServerOptions _options;
    private readonly VlogModules _log;
    private readonly ControlServer _server;
    private readonly CancellationTokenSource _cancel;
    private readonly JsonObjectScanner _scanner = new();
    private NetworkStream? _stream;
    private volatile bool _waiting = true;
    private long _waitingSince = Stopwatch.GetTimestamp();

    public ControlConnection(long id, Socket socket, IControlHandler handler, ControlServerOptions options, VlogModules log, ControlServer server, CancellationToken stop)
    {
        Id = id;
        _socket = socket;
        _handler = handler;
        _options = options;
        _log = log;
        _server = server;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(stop);
    }

    private enum Framing
    {
        Lines,
        Ovs,
    }

    public long Id { get; }

    /// <summary>True while the client owes us its next request (nothing of ours is running for it).</summary>
    public bool IsWaiting => _waiting;

    /// <summary>When the current wait for a request began (Stopwatch ticks).</summary>
    public long WaitingSince => Volatile.Read(ref _waitingSince);

    /// <summary>Cancels the client's work and closes its socket, whatever it is doing; safe from any thread.</summary>
    public void Abort()
    {
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished.
        }

        _socket.Dispose();
    }

    public async Task RunAsync()
    {
        using (_socket)
        using (_cancel)
        {
            if (PeerCredentials.UserOf(_socket) is { } uid && !PeerCredentials.IsTrusted(uid))
            {
                _log.Log("control", VlogLevel.Warn, $"client {Id} refused: it runs as {PrivateDirectory.Describe(uid)}, neither this user nor root");
                return;
            }

            var stream = new NetworkStream(_socket, ownsSocket: false);
            await using (stream.ConfigureAwait(false))
            {
                _stream = stream;
                var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
                try
                {
                    var framing = await DetectFramingAsync(reader).ConfigureAwait(false);
                    if (framing == Framing.Lines)
                    {
                        await ServeLinesAsync(reader).ConfigureAwait(false);
                    }
                    else if (framing == Framing.Ovs)
                    {
                        await ServeOvsAsync(reader).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or ClientGoneException)
                {
                    // The client went away, stalled, was evicted, or the server is stopping.
                }
                catch (Exception e)
                {
                    // A bug of ours: this client is dropped, the server and the others go on.
                    _log.Log("control", VlogLevel.Err, $"client {Id} dropped: {e}");
                }
                finally
                {
                    // Whatever this client started stops with it.
                    await _cancel.CancelAsync().ConfigureAwait(false);
                    await reader.CompleteAsync().ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>Reads until the first request shows its framing; null when the client leaves first.</summary>
    private async Task<Framing?> DetectFramingAsync(PipeReader reader)
    {
        using var deadline = BeginWaiting();
        while (true)
        {
            var read = await ReadAsync(reader, deadline.Token).ConfigureAwait(false);
            var buffer = read.Buffer;
            var start = SkipWhitespace(buffer);
            if (start is { } first)
            {
                var rest = buffer.Slice(first);
                if (rest.FirstSpan[0] != (byte)'{')
                {
                    reader.AdvanceTo(buffer.Start);
                    return Framing.Lines;
                }

                if (_scanner.TryComplete(rest, out long length))
                {
                    var framing = HasJsonRpcMember(rest.Slice(0, length)) ? Framing.Lines : Framing.Ovs;
                    reader.AdvanceTo(buffer.Start);
                    return framing;
                }

                if (_scanner.Scanned > _options.MaxRequestBytes)
                {
                    reader.AdvanceTo(buffer.Start);
                    _scanner.Reset();
                    return Framing.Lines;
                }
            }
            else if (buffer.Length > _options.MaxRequestBytes)
            {
                // Only whitespace so far: both framings skip it, but kept here it would grow without
                // bound. The line framing bounds it (a blank line is dropped, a longer run is too large).
                reader.AdvanceTo(buffer.Start);
                return Framing.Lines;
            }

            if (read.IsCompleted)
            {
                if (!buffer.IsEmpty && start is not null)
                {
                    reader.AdvanceTo(buffer.Start);
                    _scanner.Reset();
                    return Framing.Lines;
                }

                return null;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool HasJsonRpcMember(ReadOnlySequence<byte> json)
    {
        try
        {
            var reader = new System.Text.Json.Utf8JsonReader(json, new System.Text.Json.JsonReaderOptions { MaxDepth = 16 });
            return reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.StartObject && HasTopLevelMember(ref reader, "jsonrpc"u8);
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON at all: our line framing answers that with a parse error.
            return true;
        }
        catch (InvalidOperationException)
        {
            // A member name that is no text (a \u escape of a lone surrogate): comparing it throws.
            // Our line framing answers that with a parse error too.
            return true;
        }
    }

    private static bool HasTopLevelMember(ref System.Text.Json.Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(name))
            {
                return true;
            }

            reader.Skip();
        }

        return false;
    }

    // ---- Our framing: one JSON-RPC 2.0 request per line ----

    private async Task ServeLinesAsync(PipeReader reader)
    {
        while (true)
        {
            JsonRpcRequest? request = null;
            ControlException? invalid = null;
            string? id = null;
            using (var deadline = BeginWaiting())
            {
                while (request is null && invalid is null)
                {
                    var read = await ReadAsync(reader, deadline.Token).ConfigureAwait(false);
                    var buffer = read.Buffer;
                    if (TryTakeLine(ref buffer, out var line))
                    {
                        if (line.Length > _options.MaxRequestBytes)
                        {
                            reader.AdvanceTo(buffer.Start);
                            await TooLargeAsync().ConfigureAwait(false);
                            return;
                        }

                        if (!IsBlank(line))
                        {
                            (request, invalid, id) = ParseLine(line);
                        }

                        reader.AdvanceTo(buffer.Start);
                        continue;
                    }

                    if (buffer.Length > _options.MaxRequestBytes)
                    {
                        await TooLargeAsync().ConfigureAwait(false);
                        return;
                    }

                    if (read.IsCompleted)
                    {
                        // A last request without its newline is still a request.
                        if (!buffer.IsEmpty && !IsBlank(buffer))
                        {
                            (request, invalid, id) = ParseLine(buffer);
                            reader.AdvanceTo(buffer.End);
                            break;
                        }

                        return;
                    }

                    reader.AdvanceTo(buffer.Start, buffer.End);
                }
            }

            _waiting = false;
            if (invalid is not null)
            {
                await WriteAsync(JsonRpc.Error(id, invalid.Code, invalid.Message)).ConfigureAwait(false);
            }
            else if (request is not null)
            {
                await AnswerLineAsync(request).ConfigureAwait(false);
            }
        }
    }

    private static (JsonRpcRequest?, ControlException?, string?) ParseLine(ReadOnlySequence<byte> line)
    {
        string? id = null;
        try
        {
            return (JsonRpc.Parse(line, out id), null, id);
        }
        catch (ControlException e)
        {
            return (null, e, id);
        }
    }

    private async Task AnswerLineAsync(JsonRpcRequest request)
    {
        ControlReply reply;
        try
        {
            reply = await ExecuteAsync(request.Method, request.Params).ConfigureAwait(false);
        }
        catch (ControlException e)
        {
            await WriteAsync(JsonRpc.Error(request.Id, e.Code, e.Message)).ConfigureAwait(false);
            return;
        }

        if (request.Id is null)
        {
            return;
        }

        if (reply.Stream is not { } stream)
        {
            byte[] result;
            try
            {
                result = JsonRpc.Result(request.Id, reply, request.Format);
            }
            catch (Exception e) when (e is NotSupportedException or InvalidOperationException or System.Text.Json.JsonException)
            {
                result = JsonRpc.Error(request.Id, JsonRpcCodes.InternalError, "the answer has no JSON form: " + e.Message);
            }

            await WriteAsync(result).ConfigureAwait(false);
            return;
        }

        var format = request.Format == ReplyFormat.Json ? ReplyFormat.Json : ReplyFormat.Text;
        var chunks = stream.Chunks.GetAsyncEnumerator(_cancel.Token);
        await using (chunks.ConfigureAwait(false))
        {
            if (await NextAsync(chunks).ConfigureAwait(false) is { } failed)
            {
                await WriteAsync(JsonRpc.Error(request.Id, failed.Code, failed.Message)).ConfigureAwait(false);
                return;
            }

            if (reply.Text.Length > 0 && format == ReplyFormat.Text)
            {
                await WriteAsync(JsonRpc.Partial(request.Id, new ReplyChunk(reply.Text, []), format)).ConfigureAwait(false);
            }

            while (_hasChunk)
            {
                await WriteAsync(JsonRpc.Partial(request.Id, chunks.Current, format, stream.ItemsName)).ConfigureAwait(false);
                if (await NextAsync(chunks).ConfigureAwait(false) is { } broken)
                {
                    // What was sent stands; the error says the answer is incomplete.
                    await WriteAsync(JsonRpc.Error(request.Id, broken.Code, broken.Message + " (the answer above is incomplete)")).ConfigureAwait(false);
                    return;
                }
            }
        }

        var end = new ControlReply(string.Empty, new Dictionary<string, object[]> { [stream.ItemsName] = [] });
        await WriteAsync(JsonRpc.Result(request.Id, end, format)).ConfigureAwait(false);
    }

    // ---- Open vSwitch's framing: JSON-RPC 1.0 objects back to back ----

    private async Task ServeOvsAsync(PipeReader reader)
    {
        while (true)
        {
            OvsRequest request;
            using (var deadline = BeginWaiting())
            {
                OvsRequest? next = null;
                while (next is null)
                {
                    var read = await ReadAsync(reader, deadline.Token).ConfigureAwait(false);
                    var buffer = read.Buffer;
                    if (SkipWhitespace(buffer) is not { } start)
                    {
                        if (read.IsCompleted)
                        {
                            return;
                        }

                        reader.AdvanceTo(buffer.End);
                        continue;
                    }

                    var rest = buffer.Slice(start);
                    if (rest.FirstSpan[0] != (byte)'{')
                    {
                        _log.Log("control", VlogLevel.Warn, $"client {Id}: received bad JSON-RPC message: not a JSON object; closing");
                        return;
                    }

                    if (_scanner.TryComplete(rest, out long length))
                    {
                        try
                        {
                            next = OvsJsonRpc.Parse(rest.Slice(0, length));
                        }
                        catch (OvsProtocolException e)
                        {
                            _log.Log("control", VlogLevel.Warn, $"client {Id}: received bad JSON-RPC message: {e.Message}; closing");
                            return;
                        }

                        reader.AdvanceTo(rest.GetPosition(length));
                        break;
                    }

                    if (_scanner.Scanned > _options.MaxRequestBytes)
                    {
                        await WriteAsync(OvsJsonRpc.Error(null, $"request longer than {_options.MaxRequestBytes} bytes; closing the connection")).ConfigureAwait(false);
                        return;
                    }

                    if (read.IsCompleted)
                    {
                        return;
                    }

                    reader.AdvanceTo(start, buffer.End);
                }

                request = next;
            }

            _waiting = false;
            await AnswerOvsAsync(request).ConfigureAwait(false);
        }
    }

    private async Task AnswerOvsAsync(OvsRequest request)
    {
        if (request.Params is null)
        {
            await WriteAsync(OvsJsonRpc.Error(request.Id, $"\"{request.Method}\" command has non-string argument")).ConfigureAwait(false);
            return;
        }

        ControlReply reply;
        try
        {
            reply = await ExecuteAsync(request.Method, request.Params).ConfigureAwait(false);
        }
        catch (ControlException e)
        {
            await WriteAsync(OvsJsonRpc.Error(request.Id, e.Message)).ConfigureAwait(false);
            return;
        }

        if (reply.Stream is not { } stream)
        {
            await WriteAsync(OvsJsonRpc.Result(request.Id, reply.Text)).ConfigureAwait(false);
            return;
        }

        var chunks = stream.Chunks.GetAsyncEnumerator(_cancel.Token);
        await using (chunks.ConfigureAwait(false))
        {
            // The first chunk before the first byte: a command that fails at once is a proper error.
            if (await NextAsync(chunks).ConfigureAwait(false) is { } failed)
            {
                await WriteAsync(OvsJsonRpc.Error(request.Id, failed.Message)).ConfigureAwait(false);
                return;
            }

            await WriteAsync(OvsJsonRpc.ResultHead(request.Id)).ConfigureAwait(false);
            char last = '\n';
            bool empty = true;
            if (reply.Text.Length > 0)
            {
                await WriteAsync(OvsJsonRpc.Escape(reply.Text)).ConfigureAwait(false);
                (last, empty) = (reply.Text[^1], false);
            }

            while (_hasChunk)
            {
                string text = chunks.Current.Text;
                if (text.Length > 0)
                {
                    await WriteAsync(OvsJsonRpc.Escape(text)).ConfigureAwait(false);
                    (last, empty) = (text[^1], false);
                }

                if (await NextAsync(chunks).ConfigureAwait(false) is { } broken)
                {
                    // The result string is half written and JSON-RPC 1.0 cannot take it back: closing
                    // makes ovs-appctl report a failed transaction instead of a truncated answer.
                    _log.Log("control", VlogLevel.Warn, $"client {Id}: {request.Method} failed midway ({broken.Message}); closing");
                    throw new ClientGoneException(broken.Message);
                }
            }

            if (!empty && last != '\n')
            {
                await WriteAsync("\\n"u8.ToArray()).ConfigureAwait(false);
            }

            await WriteAsync(OvsJsonRpc.ResultTail).ConfigureAwait(false);
        }
    }

    // ---- Shared ----

    private bool _hasChunk;

    /// <summary>Advances a streamed answer; the error that stopped it, or null (then <see cref="_hasChunk"/> says whether there is a chunk).</summary>
    private async Task<ControlException?> NextAsync(IAsyncEnumerator<ReplyChunk> chunks)
    {
        try
        {
            _hasChunk = await chunks.MoveNextAsync().ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException || !_cancel.IsCancellationRequested)
        {
            _hasChunk = false;
            return Describe(e);
        }
    }

    /// <summary>Runs a command; every failure becomes a <see cref="ControlException"/> (the client's error answer, never the server's end).</summary>
    private async Task<ControlReply> ExecuteAsync(string method, IReadOnlyList<string> args)
    {
        _log.Log("control", VlogLevel.Dbg, $"client {Id}: {method} [{string.Join(", ", args)}]");
        try
        {
            return await _handler.HandleAsync(method, args, _cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            throw new ClientGoneException("cancelled");
        }
        catch (Exception e)
        {
            throw Describe(e);
        }
    }

    private static ControlException Describe(Exception e) => e switch
    {
        ControlException c => c,
        AskTimeoutException => new ControlException(JsonRpcCodes.Timeout, "the datapath did not answer in time"),
        _ => new ControlException(JsonRpcCodes.InternalError, e.GetType().Name + ": " + e.Message),
    };

    /// <summary>Starts waiting for the next request: the client has the idle timeout to send all of it.</summary>
    private CancellationTokenSource BeginWaiting()
    {
        Volatile.Write(ref _waitingSince, Stopwatch.GetTimestamp());
        _waiting = true;
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(_cancel.Token);
        deadline.CancelAfter(_options.IdleTimeout);
        return deadline;
    }

    private async ValueTask<ReadResult> ReadAsync(PipeReader reader, CancellationToken deadline)
    {
        try
        {
            return await reader.ReadAsync(deadline).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!_cancel.IsCancellationRequested)
        {
            _log.Log("control", VlogLevel.Info, $"client {Id} disconnected: no request within {_options.IdleTimeout.TotalSeconds:0.###} s");
            _server.CountEviction();
            throw new ClientGoneException("idle");
        }
    }

    /// <summary>Writes to the client; each slice must be taken within the idle timeout, or the client is dropped.</summary>
    private async Task WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        for (int offset = 0; offset < bytes.Length; offset += WriteSlice)
        {
            var slice = bytes.Slice(offset, Math.Min(WriteSlice, bytes.Length - offset));
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(_cancel.Token);
            stall.CancelAfter(_options.IdleTimeout);
            try
            {
                await _stream!.WriteAsync(slice, stall.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!_cancel.IsCancellationRequested)
            {
                _log.Log("control", VlogLevel.Info, $"client {Id} disconnected: it left its answer unread for {_options.IdleTimeout.TotalSeconds:0.###} s");
                _server.CountEviction();
                throw new ClientGoneException("stalled");
            }
        }
    }

    /// <summary>
    /// Answers an oversized request, then reads and discards what the client still sends (for a
    /// bounded time) before closing: closing with unread data would reset the connection and the
    /// client might lose the answer.
    /// </summary>
    private async Task TooLargeAsync()
    {
        await WriteAsync(JsonRpc.Error(null, JsonRpcCodes.RequestTooLarge, $"request longer than {_options.MaxRequestBytes} bytes; closing the connection")).ConfigureAwait(false);
        _socket.Shutdown(SocketShutdown.Send);
        using var linger = CancellationTokenSource.CreateLinkedTokenSource(_cancel.Token);
        linger.CancelAfter(TimeSpan.FromSeconds(5));
        var discard = new byte[64 * 1024];
        while (await _socket.ReceiveAsync(discard, SocketFlags.None, linger.Token).ConfigureAwait(false) > 0)
        {
        }
    }

    private static SequencePosition? SkipWhitespace(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        reader.AdvancePastAny((byte)' ', (byte)'\t', (byte)'\r', (byte)'\n');
        return reader.End ? null : reader.Position;
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
