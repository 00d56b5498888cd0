using System.Globalization;

namespace Architecture.Tests;

/// <summary>
/// The intended dependency graph, read from a rules file (see architecture.rules for the syntax):
/// the assemblies to check, the parts (each a set of namespaces), the arrows allowed between parts,
/// and arrows tolerated for now (known exceptions, each with the reason). A type belongs to the
/// part with the longest namespace prefix that covers it (the namespace itself or one below it).
/// </summary>
public sealed class ArchitectureRules
{
    private readonly List<(string Prefix, string Part)> _prefixes = [];
    private readonly Dictionary<string, HashSet<string>> _allowed = new(StringComparer.Ordinal);
    private readonly Dictionary<(string From, string To), string> _known = [];
    private readonly List<string> _assemblies = [];
    private readonly List<string> _parts = [];

    public IReadOnlyList<string> Assemblies => _assemblies;

    /// <summary>The parts, in the order the file declares them.</summary>
    public IReadOnlyList<string> Parts => _parts;

    /// <summary>Arrows allowed although the rules forbid them, with the reason the file gives.</summary>
    public IReadOnlyDictionary<(string From, string To), string> KnownExceptions => _known;

    public static ArchitectureRules Parse(string text, string source)
    {
        var rules = new ArchitectureRules();
        int number = 0;
        foreach (string raw in text.Split('\n'))
        {
            number++;
            string comment = raw.Contains('#', StringComparison.Ordinal) ? raw[(raw.IndexOf('#', StringComparison.Ordinal) + 1)..].Trim() : "";
            string line = raw.Contains('#', StringComparison.Ordinal) ? raw[..raw.IndexOf('#', StringComparison.Ordinal)] : raw;
            var words = line.Split([' ', '\t', '\r', ','], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                continue;
            }

            string where = string.Create(CultureInfo.InvariantCulture, $"{source}:{number}");
            switch (words[0])
            {
                case "assembly" when words.Length == 2:
                    rules._assemblies.Add(words[1]);
                    break;
                case "part" when words.Length >= 3:
                    rules.AddPart(words[1], words[2..], where);
                    break;
                case "allow" when words.Length >= 3 && words[2] == "->":
                    rules.Allow(words[1], words[3..], where);
                    break;
                case "known" when words.Length == 4 && words[2] == "->":
                    if (comment.Length == 0)
                    {
                        throw new FormatException($"{where}: a known exception says why in a comment");
                    }

                    rules.RequirePart(words[1], where);
                    rules.RequirePart(words[3], where);
                    if (rules.Allows(words[1], words[3]))
                    {
                        throw new FormatException($"{where}: {words[1]} -> {words[3]} is allowed anyway; a known exception is for a forbidden arrow");
                    }

                    rules._known[(words[1], words[3])] = comment;
                    break;
                default:
                    throw new FormatException($"{where}: expected 'assembly FILE', 'part NAME NAMESPACE...', 'allow NAME -> NAME...' or 'known NAME -> NAME # why', got '{line.Trim()}'");
            }
        }

        return rules;
    }

    /// <summary>The part of a namespace, or null when no part covers it.</summary>
    public string? PartOf(string ns)
    {
        string? part = null;
        int best = -1;
        foreach (var (prefix, name) in _prefixes)
        {
            if (prefix.Length > best && (ns == prefix || ns.StartsWith(prefix + ".", StringComparison.Ordinal)))
            {
                part = name;
                best = prefix.Length;
            }
        }

        return part;
    }

    public bool Allows(string from, string to) => from == to || (_allowed.TryGetValue(from, out var targets) && targets.Contains(to));

    /// <summary>The arrows the rules allow, by part.</summary>
    public IReadOnlySet<string> AllowedFrom(string part) => _allowed.TryGetValue(part, out var targets) ? targets : new HashSet<string>();

    private void AddPart(string name, IEnumerable<string> namespaces, string where)
    {
        if (_parts.Contains(name))
        {
            throw new FormatException($"{where}: part {name} declared twice");
        }

        _parts.Add(name);
        foreach (string ns in namespaces)
        {
            if (_prefixes.Any(p => p.Prefix == ns))
            {
                throw new FormatException($"{where}: namespace {ns} already belongs to a part");
            }

            _prefixes.Add((ns, name));
        }
    }

    /// <summary>Allows arrows; a name ending in <c>.*</c> stands for every part declared so far whose name starts with what precedes the star.</summary>
    private void Allow(string from, IEnumerable<string> targets, string where)
    {
        var sources = Expand(from, where);
        var destinations = targets.SelectMany(t => Expand(t, where)).ToList();
        foreach (string source in sources)
        {
            if (!_allowed.TryGetValue(source, out var set))
            {
                _allowed[source] = set = new HashSet<string>(StringComparer.Ordinal);
            }

            foreach (string to in destinations.Where(d => d != source))
            {
                set.Add(to);
            }
        }
    }

    private List<string> Expand(string name, string where)
    {
        if (!name.EndsWith(".*", StringComparison.Ordinal))
        {
            RequirePart(name, where);
            return [name];
        }

        string prefix = name[..^1];
        var parts = _parts.Where(p => p.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        return parts.Count > 0 ? parts : throw new FormatException($"{where}: {name} names no declared part");
    }

    private void RequirePart(string name, string where)
    {
        if (!_parts.Contains(name))
        {
            throw new FormatException($"{where}: unknown part {name} (declare it with 'part' first)");
        }
    }
}
