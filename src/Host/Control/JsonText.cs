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

    /// <summary>Walks the document (its depth is bounded by the parser's MaxDepth).</summary>
    public static bool IsReadable(JsonElement element)
    {
        try
        {
            return Walk(element);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static bool Walk(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                _ = element.GetString();
                return true;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (!Walk(item))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Object:
                foreach (var member in element.EnumerateObject())
                {
                    _ = member.Name;
                    if (!Walk(member.Value))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return true;
        }
    }
}
