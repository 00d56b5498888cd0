using System.Text;

namespace Architecture.Tests;

/// <summary>
/// src/ keeps the dependency graph of architecture.rules (docs/architecture.md): every type belongs
/// to a part, no part uses a part it may not, and no set of parts depends on itself in a cycle.
/// Failures name the arrow and the types and members that make it.
/// </summary>
public sealed class DependencyRulesTests
{
    private const int UsesShown = 8;

    private static readonly Lazy<(ArchitectureRules Rules, PartGraph Graph)> Checked = new(Load);

    [Fact]
    public void Every_type_of_the_checked_assemblies_belongs_to_a_part()
    {
        var unmapped = Checked.Value.Graph.Unmapped.Select(d => $"{d.From} (namespace '{d.FromNamespace}')").Distinct().Order(StringComparer.Ordinal).ToList();

        Assert.True(unmapped.Count == 0, "Types no part covers (add their namespace to a part of architecture.rules):\n  " + string.Join("\n  ", unmapped));
    }

    [Fact]
    public void No_part_uses_a_part_it_may_not()
    {
        var (rules, graph) = Checked.Value;
        var report = new StringBuilder();
        foreach (var ((from, to), uses) in graph.Arrows.OrderBy(a => a.Key.From + " " + a.Key.To, StringComparer.Ordinal))
        {
            if (!rules.Allows(from, to) && !rules.KnownExceptions.ContainsKey((from, to)))
            {
                Describe(report, from, to, uses);
            }
        }

        Assert.True(report.Length == 0, "Forbidden arrows:\n" + report);
    }

    [Fact]
    public void The_parts_depend_on_each_other_in_no_cycle()
    {
        var (rules, graph) = Checked.Value;
        var arrows = graph.Arrows.Keys.Where(a => !rules.KnownExceptions.ContainsKey(a)).ToList();
        var report = new StringBuilder();
        foreach (var cycle in PartGraph.Cycles(arrows))
        {
            report.Append("Cycle among ").AppendJoin(", ", cycle).Append(":\n");
            foreach (var arrow in arrows.Where(a => cycle.Contains(a.From) && cycle.Contains(a.To)).Order())
            {
                Describe(report, arrow.From, arrow.To, graph.Arrows[arrow]);
            }
        }

        Assert.True(report.Length == 0, report.ToString());
    }

    [Fact]
    public void The_allowed_arrows_form_no_cycle()
    {
        var rules = Checked.Value.Rules;
        var allowed = rules.Parts.SelectMany(from => rules.AllowedFrom(from).Select(to => (from, to)));

        Assert.Empty(PartGraph.Cycles(allowed));
    }

    [Fact]
    public void Every_known_exception_is_still_needed()
    {
        var (rules, graph) = Checked.Value;
        var gone = rules.KnownExceptions.Keys.Where(k => !graph.Arrows.ContainsKey(k)).Select(k => $"{k.From} -> {k.To}").ToList();

        Assert.True(gone.Count == 0, "These arrows no longer occur: remove their 'known' lines from architecture.rules:\n  " + string.Join("\n  ", gone));
    }

    private static void Describe(StringBuilder report, string from, string to, List<Dependency> uses)
    {
        report.Append("  ").Append(from).Append(" -> ").Append(to).Append(" (").Append(uses.Count).Append(" uses):\n");
        foreach (var use in uses.Take(UsesShown))
        {
            report.Append("    ").Append(use).Append('\n');
        }
    }

    private static (ArchitectureRules, PartGraph) Load()
    {
        string folder = AppContext.BaseDirectory;
        var rules = ArchitectureRules.Parse(File.ReadAllText(Path.Combine(folder, "architecture.rules")), "architecture.rules");
        var dependencies = rules.Assemblies.SelectMany(a => TypeDependencies.Read(Path.Combine(folder, a)));
        return (rules, PartGraph.Build(rules, dependencies));
    }
}
