namespace Datapath.OpenFlow.Syntax;

/// <summary>
/// A parsed mod-flows line: which flows (<see cref="Filter"/>) and their new actions. The actions
/// are checked against each selected flow's own match and table (prerequisites, goto_table
/// direction), as Open vSwitch checks a flow_mod's actions per rule.
/// </summary>
public sealed class FlowModification
{
    private readonly string _line;
    private readonly int _actionsAt;
    private readonly string _source;

    internal FlowModification(FlowFilter filter, string line, int actionsAt, string source)
    {
        Filter = filter;
        _line = line;
        _actionsAt = actionsAt;
        _source = source;
    }

    public FlowFilter Filter { get; }

    /// <summary>The new actions for <paramref name="rule"/>.</summary>
    /// <exception cref="FlowSyntaxException">The actions do not fit the rule (e.g. a field its match does not imply).</exception>
    public IReadOnlyList<OfAction> ActionsFor(FlowEntry rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        try
        {
            return ActionParser.Parse(_line, _actionsAt, _line.TrimEnd().Length, rule.Match, rule.Table);
        }
        catch (LineSyntaxException e)
        {
            throw new FlowSyntaxException([new FlowSyntaxError(_source, 1, e.Offset + 1, e.Message)]);
        }
    }
}
