using System.Net.Sockets;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Host.Control;

/// <summary>The control socket could not be reached; the message says why and what to do.</summary>
internal sealed class ControlUnreachableException(string message) : Exception(message);

/// <summary>
/// The client side of the control channel (ovs-appctl's role): connects to the socket, makes sure
/// the datapath there runs as this user or root (SO_PEERCRED), sends one request and prints its
/// answer as it arrives: a streamed answer chunk by chunk, never held whole.
/// </summary>
internal static class ControlClient
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Runs <paramref name="method"/> and writes its text (or, with <paramref name="json"/>, its data) to <paramref name="output"/>.</summary>
    /// <param name="patience">How long to wait for the connection, and then for each message of the answer.</param>
    /// <exception cref="ControlUnreachableException">No socket, nobody listening, a datapath of another user, or the server closed without an answer.</exception>
    /// <exception cref="ControlException">The server answered with an error (after any part of a streamed answer it sent).</exception>
    public static async Task CallAsync(string path, string method, IReadOnlyList<string> args, bool json, TextWriter output, TimeSpan patience)
    {
        using var socket = await ConnectAsync(path, patience).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(JsonRpc.Request(method, args, 1, json ? ReplyFormat.Json : ReplyFormat.Text)).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var streamed = new StreamState();
        while (true)
        {
            string? line;
            using (var wait = new CancellationTokenSource(patience))
            {
                try
                {
                    line = await reader.ReadLineAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    throw new ControlUnreachableException($"{path}: no answer within {patience.TotalSeconds:F0} s");
                }
            }

            if (line is null)
            {
                throw new ControlUnreachableException($"{path}: the datapath closed the connection without answering");
            }

            using var message = JsonDocument.Parse(line);
            var root = message.RootElement;
            if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                if (streamed.Started && json)
                {
                    await output.WriteLineAsync("\n  ]\n}").ConfigureAwait(false);
                }

                throw new ControlException(error.GetProperty("code").GetInt32(), error.GetProperty("message").GetString() ?? "error");
            }

            if (root.TryGetProperty("partial", out var partial))
            {
                await WritePartialAsync(partial, json, streamed, output).ConfigureAwait(false);
                continue;
            }

            var result = root.GetProperty("result");
            if (!json)
            {
                await output.WriteAsync(result.GetProperty("text").GetString()).ConfigureAwait(false);
            }
            else if (streamed.Started)
            {
                await output.WriteLineAsync("\n  ]\n}").ConfigureAwait(false);
            }
            else
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(result.GetProperty("data"), Indented)).ConfigureAwait(false);
            }

            return;
        }
    }

    /// <summary>Connects and checks who listens there.</summary>
    public static async Task<Socket> ConnectAsync(string path, TimeSpan patience)
    {
        if (ControlSocketPath.Problem(path) is { } problem)
        {
            throw new ControlUnreachableException(problem);
        }

        using var cancel = new CancellationTokenSource(patience);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancel.Token).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new ControlUnreachableException(e.SocketErrorCode switch
            {
                SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported when !File.Exists(path) =>
                    $"{path}: no such control socket (is `ovs-actors run` running? --target or datapath.control.socket pick another)",
                SocketError.ConnectionRefused => $"{path}: nobody is listening (a datapath that stopped left it behind?)",
                SocketError.AccessDenied => $"{path}: permission denied (the socket is its owner's only)",
                _ => $"{path}: cannot connect: {e.Message}",
            });
        }
        catch (OperationCanceledException)
        {
            socket.Dispose();
            throw new ControlUnreachableException($"{path}: no answer within {patience.TotalSeconds:F0} s");
        }

        if (PeerCredentials.UserOf(socket) is { } uid && !PeerCredentials.IsTrusted(uid))
        {
            socket.Dispose();
            throw new ControlUnreachableException(
                $"{path}: the process listening there runs as {PrivateDirectory.Describe(uid)}, neither you ({PrivateDirectory.Describe(PrivateDirectory.EffectiveUser)}) nor root: refusing to send it anything");
        }

        return socket;
    }

    private static async Task WritePartialAsync(JsonElement partial, bool json, StreamState state, TextWriter output)
    {
        if (!json)
        {
            state.Started = true;
            await output.WriteAsync(partial.GetProperty("text").GetString()).ConfigureAwait(false);
            return;
        }

        var sb = new StringBuilder();
        if (!state.Started)
        {
            state.Started = true;
            sb.Append("{\n  ").Append(JsonSerializer.Serialize(partial.GetProperty("name").GetString(), Indented)).Append(": [");
        }

        foreach (var item in partial.GetProperty("items").EnumerateArray())
        {
            sb.Append(state.Items++ == 0 ? "\n    " : ",\n    ").Append(JsonSerializer.Serialize(item, Indented).Replace("\n", "\n    ", StringComparison.Ordinal));
        }

        await output.WriteAsync(sb.ToString()).ConfigureAwait(false);
    }

    /// <summary>How far a streamed json answer has been printed.</summary>
    private sealed class StreamState
    {
        public bool Started { get; set; }

        public int Items { get; set; }
    }
}
