using Datapath.OpenFlow;
using Datapath.OpenFlow.Syntax;
using Datapath.OpenFlow.Tables;

namespace Actors.Bridge;

/// <summary>
/// The bridge's flow table definition as a plain state machine (the bridge actor only drives it):
/// the installed rules, a version that moves once per change, and per-rule statistics summed from
/// the PMDs' reports. Every change is all or nothing: a command that fails changes nothing and
/// keeps the version.
///
/// <para>Statistics: each PMD reports cumulative counts per rule definition; the difference since
/// its previous report is credited to the bridge's rule (which also marks the rule used, for
/// idle_timeout). A PMD whose count went down restarted, and its new count is credited whole, so
/// the bridge's counters never go back. Re-adding an identical flow keeps it and its counters, as
/// the PMDs keep theirs; a flow whose actions are modified, or that an add with the same table,
/// priority and match replaces, keeps the counters it had at the last report (OpenFlow's
/// reset_counts starts it from zero), while its duration starts again.</para>
/// </summary>
public sealed partial class BridgeFlows
{
    private readonly OpenFlowTables _tables;
    private readonly Dictionary<FlowEntry, FlowRule> _byEntry = [];
    private readonly Dictionary<FlowRule, long> _installedIn = [];
    private readonly Dictionary<(FlowRule Rule, int Pmd), (long Packets, long Bytes)> _reported = [];

    public BridgeFlows(TimeProvider? clock = null)
    {
        _tables = new OpenFlowTables(clock);
    }

    /// <summary>Moves once per change that installed, replaced or removed at least one rule.</summary>
    public long Version { get; private set; }

    /// <summary>The rules of the current version, table by table in lookup order (what PMDs get).</summary>
    public IReadOnlyList<FlowEntry> Entries { get; private set; } = [];

    /// <summary>True when some rule has an idle_timeout (expiry needs the PMDs' statistics then).</summary>
    public bool HasIdleTimeouts { get; private set; }

    /// <summary>True when some rule has a timeout of either kind.</summary>
    public bool HasTimeouts { get; private set; }

    /// <summary>add-flows: parses <paramref name="text"/> and adds every flow, or nothing.</summary>
    /// <returns>The number of rules installed or replaced (0: the version did not move).</returns>
    /// <exception cref="FlowSyntaxException">A line is bad; nothing changed.</exception>
    public int Add(string text, string sourceName) => Add(FlowParser.ParseFile(text, sourceName));

    /// <summary>Adds <paramref name="entries"/>; an identical installed flow is left as it is, one with the same table, priority and match is replaced.</summary>
    public int Add(IReadOnlyList<FlowEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var fresh = new List<FlowEntry>(entries.Count);
        foreach (var entry in entries)
        {
            if (!_byEntry.ContainsKey(entry))
            {
                fresh.Add(entry);
            }
        }

        if (fresh.Count == 0)
        {
            return 0;
        }

        ReplaceKeepingCounters(fresh, resetCounts: false);
        Changed();
        return fresh.Count;
    }

    /// <summary>replace-flows: the flows of <paramref name="text"/> become the whole table in one version, or nothing changes.</summary>
    /// <exception cref="FlowSyntaxException">A line is bad; nothing changed.</exception>
    public int Replace(string text, string sourceName) => Replace(FlowParser.ParseFile(text, sourceName));

    /// <summary>
    /// Makes <paramref name="entries"/> the whole table in one version: flows not among them are
    /// removed, new ones added, unchanged ones kept with their counters (ovs-ofctl replace-flows).
    /// </summary>
    /// <returns>The number of rules removed plus added.</returns>
    public int Replace(IReadOnlyList<FlowEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var wanted = new HashSet<FlowEntry>(entries);
        int changes = 0;
        foreach (var rule in _tables.AllRules().ToList())
        {
            if (!wanted.Remove(rule.Entry))
            {
                _tables.Remove(rule);
                _removed.Add(new RemovedRule(rule, RuleRemovalReason.Delete));
                changes++;
            }
        }

        if (wanted.Count > 0)
        {
            _tables.Add(entries.Where(wanted.Contains).ToList());
            changes += wanted.Count;
        }

        if (changes > 0)
        {
            Changed();
        }

        return changes;
    }

    /// <summary>del-flows (del-flows --strict when <paramref name="strict"/>): removes the rules <paramref name="filter"/> selects.</summary>
    /// <returns>The number of rules removed.</returns>
    public int Delete(FlowFilter filter, bool strict)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var doomed = _tables.AllRules().Where(r => filter.Selects(r.Entry, strict)).ToList();
        foreach (var rule in doomed)
        {
            _tables.Remove(rule);
            _removed.Add(new RemovedRule(rule, RuleRemovalReason.Delete));
        }

        if (doomed.Count > 0)
        {
            Changed();
        }

        return doomed.Count;
    }

    /// <summary>
    /// mod-flows (--strict when <paramref name="strict"/>): gives every selected rule the new
    /// actions, keeping its table, priority, match, cookie and timeouts. Selecting nothing adds
    /// nothing (as OpenFlow 1.1 and later; OpenFlow 1.0 would add the flow).
    /// </summary>
    /// <returns>The number of rules whose actions changed.</returns>
    /// <exception cref="FlowSyntaxException">The actions do not fit a selected rule; nothing changed.</exception>
    public int Modify(FlowModification modification, bool strict)
    {
        ArgumentNullException.ThrowIfNull(modification);
        var changed = new List<FlowEntry>();
        foreach (var rule in _tables.AllRules())
        {
            if (!modification.Filter.Selects(rule.Entry, strict))
            {
                continue;
            }

            var entry = rule.Entry with { Actions = modification.ActionsFor(rule.Entry) };
            if (!entry.Equals(rule.Entry))
            {
                changed.Add(entry);
            }
        }

        if (changed.Count == 0)
        {
            return 0;
        }

        ReplaceKeepingCounters(changed, resetCounts: false);
        Changed();
        return changed.Count;
    }

    /// <summary>
    /// Removes the rules whose hard_timeout (since installation) or idle_timeout (since the last
    /// report that showed them used) has passed on the bridge's clock.
    /// </summary>
    public IReadOnlyList<RemovedRule> Expire()
    {
        var expired = _tables.Expire();
        if (expired.Count > 0)
        {
            _removed.AddRange(expired);
            Changed();
        }

        return expired;
    }

    /// <summary>
    /// Credits one PMD's cumulative per-rule counts. <paramref name="askedAtVersion"/> is the
    /// version current when the counts were asked for: a rule installed after it cannot be what
    /// the PMD counted, so it is left alone.
    /// </summary>
    public void Account(int pmd, long askedAtVersion, IReadOnlyList<(FlowEntry Entry, long Packets, long Bytes)> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var now = _tables.Clock.GetUtcNow();
        foreach (var (entry, packets, bytes) in counts)
        {
            if (!_byEntry.TryGetValue(entry, out var rule) || _installedIn[rule] > askedAtVersion)
            {
                continue;
            }

            var key = (rule, pmd);
            var before = _reported.GetValueOrDefault(key);
            if (packets < before.Packets)
            {
                before = default;
            }

            if (packets > before.Packets)
            {
                rule.Credit(packets - before.Packets, bytes - before.Bytes, now);
            }

            _reported[key] = (packets, bytes);
        }
    }

    /// <summary>ovs-ofctl dump-flows [MATCH]: one line per rule <paramref name="filter"/> selects (every rule without one), with the summed counters (or without, for --no-stats).</summary>
    public string Dump(bool withStats = true, FlowFilter? filter = null) => _tables.DumpFlows(withStats, filter);

    /// <summary>The installed rule of an entry, if any (for its counters).</summary>
    public FlowRule? Find(FlowEntry entry) => _byEntry.GetValueOrDefault(entry);

    private void Changed()
    {
        Version++;
        var entries = new List<FlowEntry>(_tables.Count);
        _byEntry.Clear();
        bool idle = false, any = false;
        foreach (var rule in _tables.AllRules())
        {
            entries.Add(rule.Entry);
            _byEntry[rule.Entry] = rule;
            _installedIn.TryAdd(rule, Version);
            idle |= rule.Entry.IdleTimeout != 0;
            any |= rule.Entry.IdleTimeout != 0 || rule.Entry.HardTimeout != 0;
        }

        foreach (var gone in _installedIn.Keys.Where(r => r.Removed).ToList())
        {
            _installedIn.Remove(gone);
        }

        foreach (var gone in _reported.Keys.Where(k => k.Rule.Removed).ToList())
        {
            _reported.Remove(gone);
        }

        Entries = entries;
        HasIdleTimeouts = idle;
        HasTimeouts = any;
    }
}
