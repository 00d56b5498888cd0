using System.Globalization;
using Akka.Configuration.Hocon;

namespace Host.Configuration;

/// <summary>
/// What Akka's HOCON parser cannot be trusted with. It recurses once per nesting level and per
/// substitution it follows, so deep nesting or a substitution cycle (`a = ${a}`, `${?missing}`)
/// overflows the stack and kills the process; an unclosed `[` makes it loop forever; a stray `}`
/// ends the file there, silently dropping what follows. The text is checked before it is parsed,
/// and the parsed tree (with its substitutions) before anything reads it.
/// </summary>
internal static class HoconGuard
{
    /// <summary>Nesting levels allowed (braces, brackets, dotted key segments, substitutions followed); the embedded default uses 4.</summary>
    public const int MaxDepth = 64;

    /// <summary>Characters and entries one value may stand for once its substitutions are expanded (a few chained `${a}${a}` would be billions).</summary>
    public const long MaxExpandedSize = 4 << 20;

    /// <summary>What is wrong with the text's structure, or null: unbalanced or too deeply nested brackets, an unclosed quoted string.</summary>
    public static string? CheckText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var open = new Stack<(char Bracket, int Line)>();
        int line = 1;
        int dots = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '$' when i + 2 < text.Length && text[i + 1] == '{' && text[i + 2] != '?':
                    break;
                case '=' or ':' or '$' or '?' or '@' or '`' or '^' or '!' or '*' or '&' or '\\' when open.Count > 0 && open.Peek().Bracket == '[':
                    // Akka's parser never gets past these in a list (nor past an optional ${?x} there): it loops forever.
                    return string.Create(CultureInfo.InvariantCulture, $"line {line}: '{c}' cannot stand unquoted in a list (quote the entry: \"...\")");
                case '\n':
                    line++;
                    dots = 0;
                    break;
                case '#':
                case '/' when i + 1 < text.Length && text[i + 1] == '/':
                    // A comment, as Akka reads it: to the end of the line, wherever it starts outside quotes.
                    while (i + 1 < text.Length && text[i + 1] != '\n')
                    {
                        i++;
                    }

                    break;
                case '"':
                    int start = line;
                    if (!SkipQuoted(text, ref i, ref line))
                    {
                        return string.Create(CultureInfo.InvariantCulture, $"line {start}: a quoted string is not closed");
                    }

                    break;
                case '{' or '[':
                    open.Push((c, line));
                    dots = 0;
                    if (open.Count > MaxDepth)
                    {
                        return string.Create(CultureInfo.InvariantCulture, $"line {line}: nested deeper than {MaxDepth} levels");
                    }

                    break;
                case '}' or ']':
                    char expected = c == '}' ? '{' : '[';
                    if (open.Count == 0)
                    {
                        return string.Create(CultureInfo.InvariantCulture, $"line {line}: '{c}' closes nothing (Akka would ignore the rest of the file)");
                    }

                    var (bracket, opened) = open.Pop();
                    if (bracket != expected)
                    {
                        return string.Create(CultureInfo.InvariantCulture, $"line {line}: '{c}' closes the '{bracket}' of line {opened}");
                    }

                    dots = 0;
                    break;
                case ',' or '=' or ':':
                    dots = 0;
                    break;
                case '.':
                    // a.b.c = 1 nests as a { b { c = 1 } }, one parser recursion per dot.
                    dots++;
                    if (open.Count + dots > MaxDepth)
                    {
                        return string.Create(CultureInfo.InvariantCulture, $"line {line}: nested deeper than {MaxDepth} levels (dotted key)");
                    }

                    break;
            }
        }

        if (open.Count > 0)
        {
            var (bracket, opened) = open.Peek();
            return string.Create(CultureInfo.InvariantCulture, $"line {opened}: this '{bracket}' is never closed");
        }

        return null;
    }

    /// <summary>Moves <paramref name="i"/> to the closing quote of the string (or triple-quoted string) opening there; false when it is never closed.</summary>
    private static bool SkipQuoted(string text, ref int i, ref int line)
    {
        if (string.CompareOrdinal(text, i, "\"\"\"", 0, 3) == 0)
        {
            int end = text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal);
            if (end < 0)
            {
                return false;
            }

            line += text.AsSpan(i, end - i).Count('\n');
            i = end + 2;
            return true;
        }

        for (i++; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '\\':
                    i++;
                    break;
                case '\n':
                    line++;
                    break;
                case '"':
                    return true;
            }
        }

        return false;
    }

    /// <summary>Refuses a parsed tree with a substitution cycle, nesting too deep once substitutions are followed, or a value expanding to too much.</summary>
    /// <exception cref="ConfigurationException">The first such problem, naming <paramref name="source"/> and the key.</exception>
    public static void CheckTree(HoconValue root, string source)
    {
        ArgumentNullException.ThrowIfNull(root);
        new TreeWalk(source).Size(root, string.Empty, 0);
    }

    /// <summary>
    /// A depth-first walk that follows substitutions as Akka's readers do, remembering each value's
    /// expanded size and height (how deep reading it recurses) so that a value shared by many
    /// substitutions is walked once.
    /// </summary>
    private sealed class TreeWalk(string source)
    {
        private readonly Dictionary<HoconValue, (long Size, int Height)> _seen = new(ReferenceEqualityComparer.Instance);
        private readonly HashSet<HoconValue> _onPath = new(ReferenceEqualityComparer.Instance);

        public (long Size, int Height) Size(HoconValue value, string key, int depth)
        {
            string? where = key.Length == 0 ? null : key;
            if (_seen.TryGetValue(value, out var known))
            {
                return depth + known.Height > MaxDepth ? throw TooDeep(where) : known;
            }

            if (depth > MaxDepth)
            {
                throw TooDeep(where);
            }

            if (!_onPath.Add(value))
            {
                throw new ConfigurationException(source, where, "a substitution refers back to the value it is part of (a cycle: ${x} needs x defined without it)");
            }

            long size = 0;
            int height = 0;
            void Add((long Size, int Height) child, long extra)
            {
                size += child.Size + extra;
                height = Math.Max(height, child.Height + 1);
            }

            foreach (var element in value.Values)
            {
                switch (element)
                {
                    case HoconObject o:
                        foreach (var (name, child) in o.Items)
                        {
                            Add(Size(child, key.Length == 0 ? name : key + "." + name, depth + 1), 1);
                        }

                        break;
                    case HoconArray a:
                        foreach (var item in a)
                        {
                            Add(Size(item, key, depth + 1), 1);
                        }

                        break;
                    case HoconSubstitution { ResolvedValue: { } resolved }:
                        Add(Size(resolved, key, depth + 1), 0);
                        break;
                    case HoconLiteral l:
                        size += l.Value?.Length ?? 0;
                        break;
                }

                if (size > MaxExpandedSize)
                {
                    throw new ConfigurationException(source, where, string.Create(CultureInfo.InvariantCulture, $"expands to more than {MaxExpandedSize} characters through its substitutions"));
                }
            }

            _onPath.Remove(value);
            _seen[value] = (size, height);
            return (size, height);
        }

        private ConfigurationException TooDeep(string? key) =>
            new(source, key, $"nested deeper than {MaxDepth} levels (counting the substitutions followed)");
    }
}
