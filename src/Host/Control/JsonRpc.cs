using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Host.Control;

/// <summary>JSON-RPC 2.0 error codes (the specification's, and the server's own in -32000..-32099).</summary>
internal static class JsonRpcCodes
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int MethodNotFound = -32601;
    public const int InvalidParams = -32602;
    public const int InternalError = -32603;

    /// <summary>The command was understood and refused (a bad flow, an unknown port...).</summary>
    public const int CommandFailed = -32000;

    /// <summary>The actors did not answer within the request timeout.</summary>
    public const int Timeout = -32001;

    /// <summary>The request line is longer than the server accepts; the connection is closed.</summary>
    public const int RequestTooLarge = -32002;

    /// <summary>The server serves its maximum number of clients; the connection is closed.</summary>
    public const int TooManyConnections = -32003;
}

/// <summary>A request that gets an error response with <paramref name="Code"/> (see <see cref="JsonRpcCodes"/>).</summary>
internal sealed class ControlException(int code, string message) : Exception(message)
{
    public int Code { get; } = code;
}

/// <summary>
/// A command's answer: the text Open vSwitch's tool would print, and the same facts for `--format
/// json`. A large answer comes as a <see cref="Stream"/> instead: its chunks are written to the
/// client one at a time, each only once the socket took the previous one (the client's reading
/// paces the work), and the enumeration is cancelled when the client goes away.
/// </summary>
internal sealed record ControlReply(string Text, object? Data = null)
{
    public static ControlReply Empty { get; } = new(string.Empty);

    /// <summary>When set, the answer is <see cref="Text"/> followed by the chunks' text; as data, {ItemsName: [every chunk's items]}.</summary>
    public ReplyStream? Stream { get; init; }
}

/// <summary>A streamed answer: its chunks, and the name of the data array their items make up.</summary>
internal sealed record ReplyStream(string ItemsName, IAsyncEnumerable<ReplyChunk> Chunks);

/// <summary>A piece of a streamed answer: its text and its data items.</summary>
internal sealed record ReplyChunk(string Text, IReadOnlyList<object> Items);

/// <summary>Which forms of the answer a client wants (our framing's "format"; absent: both, or text for a stream).</summary>
internal enum ReplyFormat
{
    Both,
    Text,
    Json,
}

/// <summary>One parsed request line. <paramref name="Id"/> is the raw JSON of the id, null for a notification (no response).</summary>
internal sealed record JsonRpcRequest(string Method, IReadOnlyList<string> Params, string? Id, ReplyFormat Format = ReplyFormat.Both);

/// <summary>
/// Our own client's wire format (Open vSwitch's, JSON-RPC 1.0, is <see cref="OvsJsonRpc"/>; the
/// server tells them apart per connection): JSON-RPC 2.0, one message per line (a serialized
/// message never contains a raw newline).
/// {"jsonrpc":"2.0","method":M,"params":[strings],"id":N[,"format":"text"|"json"]} is answered by
/// {"jsonrpc":"2.0","result":{"text":...,"data":...},"id":N} (only the form asked for, both when
/// no format is given) or {"jsonrpc":"2.0","error":{"code":C,"message":...},"id":N}.
/// Params are the command's arguments as strings, like ovs-appctl's argv. A streamed answer comes
/// as lines {"jsonrpc":"2.0","partial":{"text":...}|{"name":ITEMS,"items":[...]},"id":N}, one per
/// chunk (the json form's items all belong to the data's array ITEMS), then
/// the result (or an error, if the stream failed midway) ends it.
/// </summary>
internal static class JsonRpc
{
    public const string Version = "2.0";

    /// <summary>How data is written: snake_case names as Open vSwitch's JSON output, public fields included (counter classes).</summary>
    public static JsonSerializerOptions DataOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        IncludeFields = true,

        // Flows and traces are full of '+', '<' and '&': keep them readable (the output is never HTML).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Parses one request line.</summary>
    /// <exception cref="ControlException">Not JSON, or not a request (its <see cref="ControlException.Code"/> says which); <paramref name="id"/> is the id if one was readable.</exception>
    public static JsonRpcRequest Parse(ReadOnlySequence<byte> line, out string? id)
    {
        id = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new ControlException(JsonRpcCodes.ParseError, "parse error: " + e.Message);
        }

        using (document)
        {
            var root = document.RootElement;
            if (!JsonText.IsReadable(root))
            {
                throw new ControlException(JsonRpcCodes.ParseError, "parse error: " + JsonText.Unreadable);
            }

            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ControlException(JsonRpcCodes.InvalidRequest, "a request is a JSON object (batches are not supported)");
            }

            if (root.TryGetProperty("id", out var idElement))
            {
                if (idElement.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Null))
                {
                    throw new ControlException(JsonRpcCodes.InvalidRequest, "id must be a string, a number or null");
                }

                id = idElement.GetRawText();
            }

            if (!root.TryGetProperty("jsonrpc", out var version) || version.ValueKind != JsonValueKind.String || version.GetString() != Version)
            {
                throw new ControlException(JsonRpcCodes.InvalidRequest, "jsonrpc must be \"2.0\"");
            }

            if (!root.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(method.GetString()))
            {
                throw new ControlException(JsonRpcCodes.InvalidRequest, "method must be a non-empty string");
            }

            var args = new List<string>();
            if (root.TryGetProperty("params", out var parameters))
            {
                if (parameters.ValueKind != JsonValueKind.Array)
                {
                    throw new ControlException(JsonRpcCodes.InvalidParams, "params must be an array of strings");
                }

                foreach (var p in parameters.EnumerateArray())
                {
                    if (p.ValueKind != JsonValueKind.String)
                    {
                        throw new ControlException(JsonRpcCodes.InvalidParams, "params must be an array of strings");
                    }

                    args.Add(p.GetString()!);
                }
            }

            var format = ReplyFormat.Both;
            if (root.TryGetProperty("format", out var formatElement))
            {
                format = formatElement.ValueKind == JsonValueKind.String ? formatElement.GetString() switch
                {
                    "text" => ReplyFormat.Text,
                    "json" => ReplyFormat.Json,
                    _ => throw new ControlException(JsonRpcCodes.InvalidRequest, "format must be \"text\" or \"json\""),
                }
                : throw new ControlException(JsonRpcCodes.InvalidRequest, "format must be \"text\" or \"json\"");
            }

            return new JsonRpcRequest(method.GetString()!, args, id, format);
        }
    }

    /// <summary>Writes a request line (the client's side).</summary>
    public static byte[] Request(string method, IReadOnlyList<string> args, long id, ReplyFormat format = ReplyFormat.Both)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc", Version);
            w.WriteString("method", method);
            w.WriteStartArray("params");
            foreach (var a in args)
            {
                w.WriteStringValue(a);
            }

            w.WriteEndArray();
            w.WriteNumber("id", id);
            if (format != ReplyFormat.Both)
            {
                w.WriteString("format", format == ReplyFormat.Json ? "json" : "text");
            }

            w.WriteEndObject();
        }

        return Line(buffer);
    }

    /// <summary>A result response line: the text, the data, or both (<paramref name="format"/>).</summary>
    public static byte[] Result(string? id, ControlReply reply, ReplyFormat format = ReplyFormat.Both)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = DataOptions.Encoder }))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc", Version);
            w.WriteStartObject("result");
            if (format != ReplyFormat.Json)
            {
                w.WriteString("text", reply.Text);
            }

            if (format != ReplyFormat.Text)
            {
                w.WritePropertyName("data");
                JsonSerializer.Serialize(w, reply.Data, reply.Data?.GetType() ?? typeof(object), DataOptions);
            }

            w.WriteEndObject();
            WriteId(w, id);
            w.WriteEndObject();
        }

        return Line(buffer);
    }

    /// <summary>One chunk of a streamed answer: its text, or its items for the json format.</summary>
    public static byte[] Partial(string? id, ReplyChunk chunk, ReplyFormat format, string itemsName = "items")
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = DataOptions.Encoder }))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc", Version);
            w.WriteStartObject("partial");
            if (format == ReplyFormat.Json)
            {
                w.WriteString("name", itemsName);
                w.WritePropertyName("items");
                JsonSerializer.Serialize(w, chunk.Items, DataOptions);
            }
            else
            {
                w.WriteString("text", chunk.Text);
            }

            w.WriteEndObject();
            WriteId(w, id);
            w.WriteEndObject();
        }

        return Line(buffer);
    }

    /// <summary>An error response line.</summary>
    public static byte[] Error(string? id, int code, string message)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc", Version);
            w.WriteStartObject("error");
            w.WriteNumber("code", code);
            w.WriteString("message", message);
            w.WriteEndObject();
            WriteId(w, id);
            w.WriteEndObject();
        }

        return Line(buffer);
    }

    private static void WriteId(Utf8JsonWriter w, string? id)
    {
        w.WritePropertyName("id");
        if (id is null)
        {
            w.WriteNullValue();
        }
        else
        {
            w.WriteRawValue(id, skipInputValidation: true);
        }
    }

    private static byte[] Line(ArrayBufferWriter<byte> buffer)
    {
        var line = new byte[buffer.WrittenCount + 1];
        buffer.WrittenSpan.CopyTo(line);
        line[^1] = (byte)'\n';
        return line;
    }
}
