using System.Text;
using Datapath.OpenFlow.Syntax;

namespace Datapath.OpenFlow.Tables;

/// <summary>
/// The OpenFlow tables 0..254 of one bridge (the analogue of ofproto's oftables). A table miss
/// drops: unlike a fresh Open vSwitch bridge, which carries a default NORMAL flow, this product
/// installs nothing by itself.
///
/// <para>Ownership: one owner (the bridge's actor) adds, removes and expires rules; translation
/// reads them on the same owner. <see cref="Version"/> changes with every change, so cached
/// translations (megaflows) can tell they must be revalidated. Time comes from an injected
/// <see cref="TimeProvider"/>.</para>
/// </summary>
public sealed class OpenFlowTables
{
    public const int TableCount = FlowEntry.MaxTable + 1;

    private readonly FlowTable?[] _tables = new FlowTable?[TableCount];
    private readonly TimeProvider _clock;
    private long _sequence;

    public OpenFlowTables(TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>Incremented on every add, replace, delete and expiry (and miss behaviour change).</summary>
    public long Version { get; private set; }

    /// <summary>
    /// A table miss sends the packet to the controllers (no_match) instead of dropping it: what Open
    /// vSwitch does while an OpenFlow 1.0-1.2 controller is connected. Changing it moves
    /// <see cref="Version"/>, so cached translations are revalidated.
    /// </summary>
    public bool MissToController
    {
        get => _missToController;
        set
        {
            if (_missToController != value)
            {
                _missToController = value;
                Version++;
            }
        }
    }

    private bool _missToController;

    public TimeProvider Clock => _clock;

    /// <summary>Number of installed rules in all tables.</summary>
    public int Count { get; private set; }

    /// <summary>The table with this id, or null if it never had a rule.</summary>
    public FlowTable? this[byte id] => _tables[id];

    /// <summary>Every rule, table by table, each table in lookup order.</summary>
    public IEnumerable<FlowRule> AllRules()
    {
        foreach (var table in _tables)
        {
            if (table is null)
            {
                continue;
            }

            foreach (var rule in table.Rules)
            {
                yield return rule;
            }
        }
    }

    /// <summary>Parses a flow file and adds all its flows, or nothing if any line is bad (ovs-ofctl add-flows).</summary>
    /// <exception cref="FlowSyntaxException">A line is bad; the tables are unchanged.</exception>
    public IReadOnlyList<FlowRule> AddFlows(string text, string fileName)
    {
        var entries = FlowParser.ParseFile(text, fileName);
        return Add(entries);
    }

    /// <summary>Adds parsed flows; a flow with the same table, priority and match as an installed one replaces it.</summary>
    public IReadOnlyList<FlowRule> Add(IReadOnlyList<FlowEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var now = _clock.GetUtcNow();
        var added = new List<FlowRule>(entries.Count);
        foreach (var entry in entries)
        {
            var table = _tables[entry.Table] ??= new FlowTable(entry.Table);
            var rule = new FlowRule(entry, now, _sequence++);
            if (table.Add(rule) is null)
            {
                Count++;
            }

            added.Add(rule);
        }

        Version++;
        return added;
    }

    /// <summary>Removes a rule (delete-flows of one rule).</summary>
    public bool Remove(FlowRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (_tables[rule.Entry.Table]?.Remove(rule) != true)
        {
            return false;
        }

        Count--;
        Version++;
        return true;
    }

    /// <summary>Removes every rule.</summary>
    public void Clear()
    {
        foreach (var table in _tables)
        {
            table?.Clear();
        }

        Count = 0;
        Version++;
    }

    /// <summary>
    /// Removes the rules whose idle or hard timeout has passed at the clock's current time and
    /// returns them with the reason (the analogue of ofproto's rule expiration run).
    /// </summary>
    public IReadOnlyList<RemovedRule> Expire()
    {
        var now = _clock.GetUtcNow();
        var expired = new List<RemovedRule>();
        foreach (var table in _tables)
        {
            if (table is null)
            {
                continue;
            }

            foreach (var rule in table.Rules)
            {
                if (rule.ExpiryAt(now) is { } reason)
                {
                    expired.Add(new RemovedRule(rule, reason));
                }
            }
        }

        foreach (var removed in expired)
        {
            Remove(removed.Rule);
        }

        return expired;
    }

    /// <summary>Credits traffic to every rule a megaflow was built from (original and recirculated passes).</summary>
    public void Credit(IReadOnlyList<FlowRule> rules, long packets, long bytes)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var now = _clock.GetUtcNow();
        foreach (var rule in rules)
        {
            rule.Credit(packets, bytes, now);
        }
    }

    /// <summary>
    /// ovs-ofctl dump-flows [MATCH]: one line per rule (those <paramref name="filter"/> selects
    /// loosely, when given), with statistics unless <paramref name="withStats"/> is false.
    /// </summary>
    public string DumpFlows(bool withStats = true, FlowFilter? filter = null)
    {
        var now = _clock.GetUtcNow();
        var sb = new StringBuilder();
        foreach (var rule in AllRules())
        {
            if (filter is not null && !filter.Selects(rule.Entry, strict: false))
            {
                continue;
            }

            // ovs-ofctl prints every flow with a leading space.
            sb.Append(' ');
            FlowDumpFormatter.Append(sb, rule.Entry, withStats ? (rule.Packets, rule.Bytes, now - rule.Installed) : null);
            sb.Append('\n');
        }

        return sb.ToString();
    }
}
