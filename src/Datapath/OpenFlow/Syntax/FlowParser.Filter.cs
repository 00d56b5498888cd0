namespace Datapath.OpenFlow.Syntax;

/// <summary>The del-flows and mod-flows forms of the flow syntax (ovs-ofctl's parse_ofp_flow_mod_str for OFPFC_DELETE/OFPFC_MODIFY).</summary>
public static partial class FlowParser
{
    /// <summary>
    /// Parses a del-flows argument: "[table=N,][priority=P,]MATCH". Without table= it means every
    /// table; without priority= strict selection uses the default priority, as ovs-ofctl does.
    /// An empty text selects every flow.
    /// </summary>
    /// <exception cref="FlowSyntaxException">The text is bad (or has actions).</exception>
    public static FlowFilter ParseFilter(string text, string source = "<flow>")
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            var (filter, actionsAt) = ParseFilterCore(text);
            if (actionsAt >= 0)
            {
                throw new LineSyntaxException(actionsAt, "del-flows takes no actions");
            }

            return filter;
        }
        catch (LineSyntaxException e)
        {
            throw new FlowSyntaxException([new FlowSyntaxError(source, 1, e.Offset + 1, e.Message)]);
        }
    }

    /// <summary>Parses a mod-flows argument: "[table=N,][priority=P,]MATCH actions=ACTIONS".</summary>
    /// <exception cref="FlowSyntaxException">The text is bad, has no actions, or its actions do not fit its match.</exception>
    public static FlowModification ParseModification(string text, string source = "<flow>")
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            var (filter, actionsAt) = ParseFilterCore(text);
            if (actionsAt < 0)
            {
                throw new LineSyntaxException(text.TrimEnd().Length, "expected 'actions=...' (mod-flows sets the actions)");
            }

            // Checked once against the filter itself, so a bad action is reported even when nothing matches.
            ActionParser.Parse(text, actionsAt, text.TrimEnd().Length, filter.Match, filter.Table ?? 0);
            return new FlowModification(filter, text, actionsAt, source);
        }
        catch (LineSyntaxException e)
        {
            throw new FlowSyntaxException([new FlowSyntaxError(source, 1, e.Offset + 1, e.Message)]);
        }
    }

    private static (FlowFilter Filter, int ActionsAt) ParseFilterCore(string text)
    {
        var head = ReadHead(text, definesFlow: false);
        var filter = new FlowFilter(head.Table, head.Priority, head.Match.Build())
        {
            Cookie = head.Cookie,
            CookieMask = head.CookieMask,
            OutPort = head.OutPort,
        };
        return (filter, head.ActionsAt);
    }
}
