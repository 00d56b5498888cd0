namespace Architecture.Tests;

/// <summary>The checker itself: it sees uses that only IL shows, and its rules reject what they should.</summary>
public sealed class CheckerTests
{
    private const string Lower = "Architecture.Tests.Samples.Lower";
    private const string Upper = "Architecture.Tests.Samples.Upper";

    private static readonly Lazy<IReadOnlyList<Dependency>> Own = new(() => TypeDependencies.Read(typeof(CheckerTests).Assembly.Location));

    [Theory]
    [InlineData("Derived", "base type", "Base")]
    [InlineData("Derived", "interface", "IMarker")]
    [InlineData("BodyUser", "Run()", "UsedInBodyOnly")]
    [InlineData("GenericUser", "Count()", "UsedAsGenericArgument")]
    [InlineData("Marked", "attribute", "MarkAttribute")]
    public void The_reader_sees_each_kind_of_use(string from, string member, string to)
    {
        Assert.Contains(Own.Value, d => d.From == $"{Upper}.{from}" && d.Member == member && d.To == $"{Lower}.{to}");
    }

    [Fact]
    public void A_use_inside_a_lambda_belongs_to_the_type_that_wrote_the_lambda()
    {
        Assert.Contains(Own.Value, d => d.From == $"{Upper}.BodyUser" && d.To == $"{Lower}.UsedInBodyOnly" && d.Member != "Run()");
    }

    [Fact]
    public void A_forbidden_arrow_and_a_cycle_are_found_and_an_allowed_arrow_is_not_reported()
    {
        var rules = ArchitectureRules.Parse(
            $"part L {Lower}\npart U {Upper}\nallow U -> L\n",
            "test.rules");
        var graph = PartGraph.Build(rules, Own.Value);

        Assert.True(graph.Arrows.ContainsKey(("U", "L")));
        Assert.True(rules.Allows("U", "L"));
        Assert.False(rules.Allows("L", "U"));

        var backwards = new Dependency($"{Lower}.Base", Lower, "field", $"{Upper}.Derived", Upper);
        var withCycle = PartGraph.Build(rules, Own.Value.Append(backwards));
        Assert.True(withCycle.Arrows.ContainsKey(("L", "U")));
        Assert.Equal([["L", "U"]], PartGraph.Cycles(withCycle.Arrows.Keys));
    }

    [Fact]
    public void The_longest_namespace_wins_and_an_uncovered_namespace_has_no_part()
    {
        var rules = ArchitectureRules.Parse("part A X\npart B X.Y\n", "test.rules");

        Assert.Equal("A", rules.PartOf("X"));
        Assert.Equal("A", rules.PartOf("X.Z"));
        Assert.Equal("B", rules.PartOf("X.Y.Z"));
        Assert.Null(rules.PartOf("XY"));
    }

    [Theory]
    [InlineData("part A X\nknown A -> B # why", "unknown part B")]
    [InlineData("part A X\npart B Y\nknown A -> B", "says why")]
    [InlineData("part A X\npart B Y\nallow A -> B\nknown A -> B # why", "allowed anyway")]
    [InlineData("part A X\npart A Y", "declared twice")]
    [InlineData("frobnicate", "expected")]
    public void A_bad_rules_file_is_refused_with_its_line(string text, string reason)
    {
        var error = Assert.Throws<FormatException>(() => ArchitectureRules.Parse(text, "bad.rules"));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("bad.rules:", error.Message, StringComparison.Ordinal);
    }
}
