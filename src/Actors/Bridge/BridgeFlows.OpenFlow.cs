using Datapath.OpenFlow;
using Datapath.OpenFlow.Tables;
using Datapath.OpenFlow.Wire;

namespace Actors.Bridge;

// The OpenFlow flow_mod commands on the same table, rules and counters as the text commands
// (Open vSwitch's ofproto add_flow / modify_flows / delete_flows), and the rules that left the
// table, for flow_removed messages.
public sealed partial class BridgeFlows
{
    private readonly List<RemovedRule> _removed = [];

    /// <summary>The clock rules are timed with (the bridge's scheduler).</summary>
    public TimeProvider Clock => _tables.Clock;

    /// <summary>The rules deleted, replaced away by replace-flows or expired since the last call (oldest first).</summary>
    public IReadOnlyList<RemovedRule> TakeRemoved()
    {
        var removed = _removed.ToArray();
        _removed.Clear();
        return removed;
    }

    /// <summary>
    /// OFPFC_ADD: installs <paramref name="entry"/>; one with the same table, priority and match is
    /// replaced (keeping its counters unless reset_counts). With check_overlap, a different rule of
    /// the same priority that some packet could match too refuses the add.
    /// </summary>
    /// <returns>The rules installed (0 when an identical rule was already there).</returns>
    /// <exception cref="OfpException">OFPFMFC_OVERLAP, or a table out of range.</exception>
    public int AddFlow(FlowEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Table > FlowEntry.MaxTable)
        {
            throw new OfpException(OfpErrorKind.FlowModBadTableId, $"table {entry.Table} does not exist");
        }

        if ((entry.Flags & FlowModFlags.CheckOverlap) != 0 && _tables[entry.Table] is { } table)
        {
            foreach (var rule in table.Rules)
            {
                if (rule.Entry.Priority == entry.Priority && !rule.Entry.Match.Equals(entry.Match) && rule.Entry.Match.Overlaps(entry.Match))
                {
                    throw new OfpException(OfpErrorKind.FlowModOverlap, $"overlaps {rule.Entry}");
                }
            }
        }

        if (_byEntry.ContainsKey(entry))
        {
            return 0;
        }

        ReplaceKeepingCounters([entry], (entry.Flags & FlowModFlags.ResetCounts) != 0);
        Changed();
        return 1;
    }

    /// <summary>
    /// OFPFC_MODIFY(_STRICT): the selected rules get <paramref name="actions"/> (and, when
    /// <paramref name="newCookie"/> is given, that cookie), keeping their counters unless
    /// <paramref name="resetCounts"/>. With <paramref name="addIfNone"/> (OpenFlow 1.0), selecting
    /// nothing adds <paramref name="toAdd"/> instead.
    /// </summary>
    /// <returns>The number of rules changed or added.</returns>
    public int ModifyFlows(FlowFilter filter, bool strict, IReadOnlyList<OfAction> actions, ulong? newCookie, bool resetCounts, FlowEntry? toAdd)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(actions);
        var selected = _tables.AllRules().Where(r => filter.Selects(r.Entry, strict)).ToList();
        if (selected.Count == 0)
        {
            return toAdd is null ? 0 : AddFlow(toAdd);
        }

        var changed = new List<FlowEntry>();
        foreach (var rule in selected)
        {
            var entry = rule.Entry with { Actions = actions, Cookie = newCookie ?? rule.Entry.Cookie };
            if (!entry.Equals(rule.Entry) || resetCounts)
            {
                changed.Add(entry);
            }
        }

        if (changed.Count == 0)
        {
            return 0;
        }

        foreach (var entry in changed)
        {
            if (_byEntry.TryGetValue(entry, out var same) && resetCounts)
            {
                // Same definition, counters to zero: the rule is installed anew.
                _tables.Remove(same);
            }
        }

        ReplaceKeepingCounters(changed, resetCounts);
        Changed();
        return changed.Count;
    }

    /// <summary>The rules <paramref name="filter"/> selects, with their counters (flow and aggregate statistics).</summary>
    public IReadOnlyList<FlowStatsEntry> Statistics(FlowFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var now = _tables.Clock.GetUtcNow();
        var result = new List<FlowStatsEntry>();
        foreach (var rule in _tables.AllRules())
        {
            if (filter.Selects(rule.Entry, strict: false))
            {
                result.Add(new FlowStatsEntry(rule.Entry, rule.Packets, rule.Bytes, now - rule.Installed, now - rule.LastUsed, now - rule.Installed));
            }
        }

        return result;
    }

    /// <summary>Active rules and matched packets per table, for the tables 0..<see cref="FlowEntry.MaxTable"/>.</summary>
    public IReadOnlyList<TableCounters> TableStatistics()
    {
        var active = new int[FlowEntry.MaxTable + 1];
        var matched = new long[FlowEntry.MaxTable + 1];
        foreach (var rule in _tables.AllRules())
        {
            active[rule.Entry.Table]++;
            matched[rule.Entry.Table] += rule.Packets;
        }

        var tables = new TableCounters[FlowEntry.MaxTable + 1];
        for (int t = 0; t < tables.Length; t++)
        {
            tables[t] = new TableCounters((byte)t, active[t], matched[t], matched[t]);
        }

        return tables;
    }

    /// <summary>
    /// Installs <paramref name="entries"/>; each one that takes the place of a rule with the same table,
    /// priority and match starts with that rule's counters unless <paramref name="resetCounts"/>.
    /// </summary>
    private void ReplaceKeepingCounters(List<FlowEntry> entries, bool resetCounts)
    {
        var previous = new FlowRule?[entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            previous[i] = _tables[entry.Table]?.Find(entry.Priority, entry.Match);
        }

        var added = _tables.Add(entries);
        for (int i = 0; i < added.Count; i++)
        {
            if (!resetCounts && (entries[i].Flags & FlowModFlags.ResetCounts) == 0 && previous[i] is { } old && (old.Packets > 0 || old.Bytes > 0))
            {
                added[i].Credit(old.Packets, old.Bytes, old.LastUsed);
            }
        }
    }
}
