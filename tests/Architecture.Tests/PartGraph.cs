namespace Architecture.Tests;

/// <summary>
/// The dependencies of the checked assemblies lifted to parts: for each arrow between two parts, the
/// type uses that make it. Dependencies on types outside every part (the framework, Akka) are not
/// arrows.
/// </summary>
public sealed class PartGraph
{
    private PartGraph(Dictionary<(string From, string To), List<Dependency>> arrows, List<Dependency> unmapped)
    {
        Arrows = arrows;
        Unmapped = unmapped;
    }

    /// <summary>Each arrow with the type uses behind it.</summary>
    public IReadOnlyDictionary<(string From, string To), List<Dependency>> Arrows { get; }

    /// <summary>Uses by types that belong to no part (each one a type the rules forgot).</summary>
    public IReadOnlyList<Dependency> Unmapped { get; }

    public static PartGraph Build(ArchitectureRules rules, IEnumerable<Dependency> dependencies)
    {
        var arrows = new Dictionary<(string, string), List<Dependency>>();
        var unmapped = new List<Dependency>();
        foreach (var d in dependencies)
        {
            if (IsCompilerEmbedded(d.FromNamespace))
            {
                continue;
            }

            if (rules.PartOf(d.FromNamespace) is not { } from)
            {
                unmapped.Add(d);
                continue;
            }

            if (rules.PartOf(d.ToNamespace) is not { } to || to == from)
            {
                continue;
            }

            if (!arrows.TryGetValue((from, to), out var uses))
            {
                arrows[(from, to)] = uses = [];
            }

            uses.Add(d);
        }

        foreach (var uses in arrows.Values)
        {
            uses.Sort((a, b) => string.CompareOrdinal(a.ToString(), b.ToString()));
        }

        return new PartGraph(arrows, unmapped);
    }

    /// <summary>
    /// The strongly connected groups of more than one part (Tarjan), each a dependency cycle, over
    /// <paramref name="arrows"/>.
    /// </summary>
    public static List<List<string>> Cycles(IEnumerable<(string From, string To)> arrows)
    {
        var next = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (from, to) in arrows)
        {
            if (!next.TryGetValue(from, out var list))
            {
                next[from] = list = [];
            }

            list.Add(to);
            next.TryAdd(to, []);
        }

        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var cycles = new List<List<string>>();
        int counter = 0;

        void Visit(string v)
        {
            index[v] = low[v] = counter++;
            stack.Push(v);
            onStack.Add(v);
            foreach (string w in next[v])
            {
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w))
                {
                    low[v] = Math.Min(low[v], index[w]);
                }
            }

            if (low[v] == index[v])
            {
                var group = new List<string>();
                string w;
                do
                {
                    w = stack.Pop();
                    onStack.Remove(w);
                    group.Add(w);
                }
                while (w != v);

                if (group.Count > 1)
                {
                    group.Sort(StringComparer.Ordinal);
                    cycles.Add(group);
                }
            }
        }

        foreach (string v in next.Keys.Order(StringComparer.Ordinal).ToList())
        {
            if (!index.ContainsKey(v))
            {
                Visit(v);
            }
        }

        return cycles;
    }

    /// <summary>Attributes and helpers the compiler writes into every assembly (System.Runtime.CompilerServices, Microsoft.CodeAnalysis).</summary>
    private static bool IsCompilerEmbedded(string ns) =>
        ns.StartsWith("System", StringComparison.Ordinal) || ns.StartsWith("Microsoft", StringComparison.Ordinal) || ns.Length == 0;
}
