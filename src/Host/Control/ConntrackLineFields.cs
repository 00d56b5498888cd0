using System.Globalization;

namespace Host.Control;

/// <summary>
/// One line of dpctl/dump-conntrack (Open vSwitch's format: <c>tcp,orig=(src=..,dst=..,sport=..,dport=..),reply=(..),zone=1,protoinfo=(state=ESTABLISHED)</c>)
/// as fields for --format json: the leading protocol as "protocol", each key=value as a field,
/// each parenthesised group as an object, whole numbers as numbers. The text comes from our own
/// formatter (ConntrackFormatter), so the grammar is small; a line it does not follow is kept whole
/// under "line" rather than guessed at.
/// </summary>
internal static class ConntrackLineFields
{
    /// <summary>Lines as their fields, each parsed when read (a text client never pays for it).</summary>
    public sealed class Parsed(IReadOnlyList<string> lines) : IReadOnlyList<object>
    {
        public int Count => lines.Count;

        public object this[int index] => Parse(lines[index]);

        public IEnumerator<object> GetEnumerator()
        {
            foreach (string line in lines)
            {
                yield return Parse(line);
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    public static IReadOnlyDictionary<string, object> Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        int position = 0;
        var fields = new Dictionary<string, object>(StringComparer.Ordinal);
        if (!TryParseGroup(line, ref position, fields, topLevel: true) || position != line.Length)
        {
            return new Dictionary<string, object> { ["line"] = line };
        }

        return fields;
    }

    /// <summary>key=value pairs up to the end (top level) or the closing parenthesis (consumed).</summary>
    private static bool TryParseGroup(string text, ref int position, Dictionary<string, object> fields, bool topLevel)
    {
        bool first = true;
        while (position < text.Length)
        {
            if (!topLevel && text[position] == ')')
            {
                position++;
                return true;
            }

            if (!first)
            {
                if (text[position] != ',')
                {
                    return false;
                }

                position++;
            }

            int start = position;
            while (position < text.Length && text[position] is not ('=' or ',' or '(' or ')'))
            {
                position++;
            }

            string key = text[start..position];
            if (key.Length == 0)
            {
                return false;
            }

            if (position >= text.Length || text[position] != '=')
            {
                // A bare word: the protocol leads the line ("tcp"); elsewhere a flag.
                fields[first && topLevel ? "protocol" : key] = first && topLevel ? key : true;
                first = false;
                continue;
            }

            position++;
            if (position < text.Length && text[position] == '(')
            {
                position++;
                var group = new Dictionary<string, object>(StringComparer.Ordinal);
                if (!TryParseGroup(text, ref position, group, topLevel: false))
                {
                    return false;
                }

                fields[key] = group;
            }
            else
            {
                start = position;
                while (position < text.Length && text[position] is not (',' or ')'))
                {
                    position++;
                }

                string value = text[start..position];
                fields[key] = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long number) ? number : value;
            }

            first = false;
        }

        return topLevel;
    }
}
