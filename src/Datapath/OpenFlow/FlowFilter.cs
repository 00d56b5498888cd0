using Datapath.Flow;

namespace Datapath.OpenFlow;

/// <summary>
/// Which installed flows a del-flows or mod-flows command means (the analogue of Open vSwitch's
/// struct rule_criteria with its cls_rule): an optional table (none: every table, as ovs-ofctl's
/// default for these commands), a priority used only by strict selection, and a match.
/// </summary>
/// <param name="Table">The table, or null for all tables.</param>
/// <param name="Priority">The priority strict selection compares; ovs-ofctl's default when the text gives none.</param>
public sealed record FlowFilter(byte? Table, ushort Priority, OfMatch Match)
{
    /// <summary>Selects every flow of every table (del-flows without a match).</summary>
    public static FlowFilter All { get; } = new(null, FlowEntry.DefaultPriority, OfMatch.CatchAll);

    /// <summary>The cookie bits that <see cref="CookieMask"/> selects must equal these.</summary>
    public ulong Cookie { get; init; }

    /// <summary>Which cookie bits must match (0: any cookie; OpenFlow's cookie_mask).</summary>
    public ulong CookieMask { get; init; }

    /// <summary>Only flows with an output to this port (OpenFlow's out_port); null: any flow.</summary>
    public uint? OutPort { get; init; }

    /// <summary>
    /// Strict (OFPFC_*_STRICT): the flow has exactly this priority and match. Loose: the flow's match
    /// is at least as specific as this one, i.e. it constrains every bit this one constrains to the
    /// same value (Open vSwitch's rule_is_loose_match); priority is ignored.
    /// </summary>
    public bool Selects(FlowEntry entry, bool strict)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (Table is { } table && entry.Table != table)
        {
            return false;
        }

        if ((entry.Cookie & CookieMask) != (Cookie & CookieMask))
        {
            return false;
        }

        if (OutPort is { } port && !OutputsTo(entry.Actions, port))
        {
            return false;
        }

        return strict
            ? entry.Priority == Priority && entry.Match.Equals(Match)
            : IsLooseMatch(entry.Match, Match);
    }

    /// <summary>True when <paramref name="actions"/> output to <paramref name="port"/> (ofpacts_output_to_port), nested ones included.</summary>
    public static bool OutputsTo(IReadOnlyList<OfAction> actions, uint port)
    {
        ArgumentNullException.ThrowIfNull(actions);
        foreach (var action in actions)
        {
            if (action is OutputAction o && o.Port == port)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when every packet <paramref name="rule"/> matches is also matched by <paramref name="criteria"/>.</summary>
    public static bool IsLooseMatch(OfMatch rule, OfMatch criteria)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(criteria);
        ReadOnlySpan<ulong> ruleMask = rule.Mask.Key.Words;
        ReadOnlySpan<ulong> ruleValue = rule.Value.Key.Words;
        ReadOnlySpan<ulong> mask = criteria.Mask.Key.Words;
        ReadOnlySpan<ulong> value = criteria.Value.Key.Words;
        for (int w = 0; w < FlowKey.WordCount; w++)
        {
            if (!Covers(ruleValue[w], ruleMask[w], value[w], mask[w]))
            {
                return false;
            }
        }

        if (!Covers(rule.Value.Metadata, rule.Mask.Metadata, criteria.Value.Metadata, criteria.Mask.Metadata))
        {
            return false;
        }

        for (int i = 0; i < OfRegisters.Count; i++)
        {
            if (!Covers(rule.Value.Regs[i], rule.Mask.Regs[i], criteria.Value.Regs[i], criteria.Mask.Regs[i]))
            {
                return false;
            }
        }

        return true;
    }

    // Values are kept masked (OfMatch), so comparing under the criteria's mask is enough.
    private static bool Covers(ulong ruleValue, ulong ruleMask, ulong value, ulong mask) =>
        (ruleMask & mask) == mask && (ruleValue & mask) == value;
}
