using System.Text.Encodings.Web;
using System.Text.Json;

namespace Host.Commands;

/// <summary>
/// How a command reports a failure: one line on stderr, "command: message" as text, or with
/// --format json one JSON object, {"error":{"command":...,"message":...}}, so that a script reading
/// JSON never meets plain text.
/// </summary>
internal static class CommandError
{
    // Quotes and backticks as they are: the line is for a terminal as much as for a parser.
    private static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(TextWriter error, string command, string message, bool json)
    {
        ArgumentNullException.ThrowIfNull(error);
        error.WriteLine(json
            ? JsonSerializer.Serialize(new { error = new { command, message } }, Options)
            : $"{command}: {message}");
    }
}
