using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Host.Control;

/// <summary>The control socket could not be reached; the message says why and what to do.</summary>
internal sealed class ControlUnreachableException(string message) : Exception(message);

/// <summary>
/// The client side of the control channel (ovs-appctl's role): connects to the socket, sends one
/// request and reads its response line.
/// </summary>
internal static class ControlClient
{
    /// <summary>Runs <paramref name="method"/> and returns its result (text and data).</summary>
    /// <exception cref="ControlUnreachableException">No socket, nobody listening, or the server closed without an answer.</exception>
    /// <exception cref="ControlException">The server answered with an error.</exception>
    public static async Task<(string Text, JsonElement Data)> CallAsync(string path, string method, IReadOnlyList<string> args, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancel.Token).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
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
            throw new ControlUnreachableException($"{path}: no answer within {timeout.TotalSeconds:F0} s");
        }

        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(JsonRpc.Request(method, args, 1), cancel.Token).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? line;
        try
        {
            line = await reader.ReadLineAsync(cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new ControlUnreachableException($"{path}: no answer within {timeout.TotalSeconds:F0} s");
        }

        if (line is null)
        {
            throw new ControlUnreachableException($"{path}: the datapath closed the connection without answering");
        }

        using var response = JsonDocument.Parse(line);
        var root = response.RootElement;
        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
        {
            throw new ControlException(error.GetProperty("code").GetInt32(), error.GetProperty("message").GetString() ?? "error");
        }

        var result = root.GetProperty("result");
        return (result.GetProperty("text").GetString() ?? string.Empty, result.GetProperty("data").Clone());
    }
}
