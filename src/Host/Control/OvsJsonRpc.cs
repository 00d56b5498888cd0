using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Host.Control;

/// <summary>A message Open vSwitch's JSON-RPC would not accept: the connection is closed, as lib/jsonrpc.c does (EPROTO).</summary>
internal sealed class OvsProtocolException(string message) : Exception(message);

/// <summary>
/// A request as ovs-appctl sends it. <paramref name="Params"/> is null when an argument is not a
/// string (answered with unixctl's error, the connection goes on).
/// </summary>
internal sealed record OvsRequest(string Method, IReadOnlyList<string>? Params, string Id);

/// <summary>
/// Open vSwitch's unixctl wire format (lib/jsonrpc.c, lib/unixctl.c): JSON-RPC 1.0 objects back to
/// back with no delimiter. A request is {"method":M,"params":[strings],"id":ID}; the answer is
/// {"id":ID,"result":"TEXT","error":null} or {"id":ID,"result":null,"error":"TEXT"}, the text with
/// a newline added when it lacks one (unixctl_command_reply__). A message that is not a request
/// (a notification, a reply, unknown members, params not an array) is a protocol error.
/// </summary>
internal static class OvsJsonRpc
{
    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
    private static readonly HashSet<string> Members = ["method", "params", "result", "error", "id"];

    /// <summary>Parses one complete JSON object.</summary>
    /// <exception cref="OvsProtocolException">Not a JSON-RPC request.</exception>
    public static OvsRequest Parse(ReadOnlySequence<byte> json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new OvsProtocolException("error parsing stream: " + e.Message);
        }

        using (document)
        {
            var root = document.RootElement;
            if (!JsonText.IsReadable(root))
            {
                // lib/json.c refuses such a string as it parses ("invalid UTF-8"...): EPROTO too.
                throw new OvsProtocolException("error parsing stream: " + JsonText.Unreadable);
            }

            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new OvsProtocolException("message is not a JSON object");
            }

            foreach (var member in root.EnumerateObject())
            {
                if (!Members.Contains(member.Name))
                {
                    throw new OvsProtocolException($"message has unexpected member \"{member.Name}\"");
                }
            }

            if (!root.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String)
            {
                throw new OvsProtocolException("received a message that is not a request");
            }

            if (!root.TryGetProperty("id", out var id) || id.ValueKind == JsonValueKind.Null)
            {
                throw new OvsProtocolException("received unexpected notification message");
            }

            if (IsPresent(root, "result") || IsPresent(root, "error"))
            {
                throw new OvsProtocolException("request must not have \"result\" or \"error\"");
            }

            if (!root.TryGetProperty("params", out var parameters) || parameters.ValueKind != JsonValueKind.Array)
            {
                throw new OvsProtocolException("\"params\" must be JSON array");
            }

            var args = new List<string>();
            foreach (var p in parameters.EnumerateArray())
            {
                if (p.ValueKind != JsonValueKind.String)
                {
                    return new OvsRequest(method.GetString()!, null, id.GetRawText());
                }

                args.Add(p.GetString()!);
            }

            return new OvsRequest(method.GetString()!, args, id.GetRawText());
        }
    }

    /// <summary>A complete success answer.</summary>
    public static byte[] Result(string id, string text) => Concat(ResultHead(id), Escape(WithNewline(text)), ResultTail);

    /// <summary>A complete error answer.</summary>
    public static byte[] Error(string? id, string text) =>
        Concat(Encoding.UTF8.GetBytes($"{{\"id\":{id ?? "null"},\"result\":null,\"error\":\""), Escape(WithNewline(text)), "\"}"u8.ToArray());

    /// <summary>What precedes a result's text: a streamed result writes this, its text in escaped pieces, then <see cref="ResultTail"/>.</summary>
    public static byte[] ResultHead(string id) => Encoding.UTF8.GetBytes($"{{\"id\":{id},\"result\":\"");

    public static byte[] ResultTail { get; } = "\",\"error\":null}"u8.ToArray();

    /// <summary>A piece of text as the inside of a JSON string.</summary>
    public static byte[] Escape(string text) => JsonEncodedText.Encode(text, Encoder).EncodedUtf8Bytes.ToArray();

    /// <summary>unixctl adds a newline to a non-empty answer that lacks one.</summary>
    public static string WithNewline(string text) => text.Length > 0 && text[^1] != '\n' ? text + "\n" : text;

    /// <summary>A client request (tests speak as ovs-appctl does).</summary>
    public static byte[] Request(string method, IReadOnlyList<string> args, long id)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("method", method);
            w.WriteStartArray("params");
            foreach (string a in args)
            {
                w.WriteStringValue(a);
            }

            w.WriteEndArray();
            w.WriteNumber("id", id);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static bool IsPresent(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    private static byte[] Concat(byte[] a, byte[] b, byte[] c)
    {
        var all = new byte[a.Length + b.Length + c.Length];
        a.CopyTo(all, 0);
        b.CopyTo(all, a.Length);
        c.CopyTo(all, a.Length + b.Length);
        return all;
    }
}
