using System.Text.Json;

namespace Host.Control;

/// <summary>
/// Whether every string of a parsed document can be read as text. The parser checks the syntax but
/// not the strings: bytes that are not UTF-8, or a \u escape of a lone surrogate, throw
/// <see cref="InvalidOperationException"/> only when the string or member name is read (by
/// GetString, GetRawText, even TryGetProperty). A request is checked once here, so that its parser
/// refuses it with its own error and reads it afterwards without that risk.
/// </summary>
internal static class JsonText
{
    public const string Unreadable = "a string is not valid UTF-8 or escapes a lone surrogate";

    /// <summary>Reads every string and member name once (the document's depth is bounded by the parser's MaxDepth).</summary>
    public static bool IsReadable(JsonElement element)
    {
        try
        {
            Walk(element);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void Walk(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                _ = element.GetString();
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item);
                }

                break;
            case JsonValueKind.Object:
                foreach (var member in element.EnumerateObject())
                {
                    _ = member.Name;
                    Walk(member.Value);
                }

                break;
        }
    }
}
