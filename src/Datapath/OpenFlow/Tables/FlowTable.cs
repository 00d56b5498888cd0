using Datapath.Flow;

namespace Datapath.OpenFlow.Tables;

/// <summary>
/// One OpenFlow table: rules ordered by priority (highest first), equal priorities by insertion
/// order. Lookup is a linear scan that records, rule by rule, the datapath bits it examined
/// (see <see cref="OfMatch.Matches(in OfFlow, ref FlowKey)"/>), so the resulting megaflow mask is
/// exactly what decided the winner. Rules with the same priority and match replace each other, as
/// an OpenFlow add does.
/// </summary>
public sealed class FlowTable
{
    private readonly List<FlowRule> _rules = [];
    private readonly Dictionary<(ushort, OfMatch), FlowRule> _byMatch = [];
    private bool _sorted = true;

    public FlowTable(byte id)
    {
        Id = id;
    }

    public byte Id { get; }

    public int Count => _rules.Count;

    /// <summary>The rules in lookup order.</summary>
    public IReadOnlyList<FlowRule> Rules
    {
        get
        {
            EnsureSorted();
            return _rules;
        }
    }

    /// <summary>
    /// Finds the highest-priority rule matching <paramref name="flow"/> and ORs into
    /// <paramref name="wildcards"/> every datapath bit examined on the way. Null on a miss, in which
    /// case the bits of every rule were examined.
    /// </summary>
    public FlowRule? Lookup(in OfFlow flow, ref FlowKey wildcards)
    {
        EnsureSorted();
        foreach (var rule in _rules)
        {
            if (rule.Entry.Match.Matches(in flow, ref wildcards))
            {
                return rule;
            }
        }

        return null;
    }

    /// <summary>The rule with exactly this priority and match, if any (what an add would replace).</summary>
    public FlowRule? Find(ushort priority, OfMatch match) => _byMatch.GetValueOrDefault((priority, match));

    /// <summary>Adds <paramref name="rule"/>; returns the rule it replaced, if any.</summary>
    internal FlowRule? Add(FlowRule rule)
    {
        var key = (rule.Entry.Priority, rule.Entry.Match);
        FlowRule? replaced = null;
        if (_byMatch.TryGetValue(key, out var old))
        {
            _rules.Remove(old);
            old.Removed = true;
            replaced = old;
        }

        _byMatch[key] = rule;
        if (_rules.Count > 0 && _sorted && Compare(_rules[^1], rule) > 0)
        {
            _sorted = false;
        }

        _rules.Add(rule);
        return replaced;
    }

    internal bool Remove(FlowRule rule)
    {
        if (!_rules.Remove(rule))
        {
            return false;
        }

        _byMatch.Remove((rule.Entry.Priority, rule.Entry.Match));
        rule.Removed = true;
        return true;
    }

    internal void Clear()
    {
        foreach (var rule in _rules)
        {
            rule.Removed = true;
        }

        _rules.Clear();
        _byMatch.Clear();
    }

    private static int Compare(FlowRule a, FlowRule b)
    {
        int c = b.Entry.Priority.CompareTo(a.Entry.Priority);
        return c != 0 ? c : a.Sequence.CompareTo(b.Sequence);
    }

    private void EnsureSorted()
    {
        if (!_sorted)
        {
            _rules.Sort(Compare);
            _sorted = true;
        }
    }
}
