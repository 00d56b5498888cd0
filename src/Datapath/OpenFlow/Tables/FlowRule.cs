namespace Datapath.OpenFlow.Tables;

/// <summary>
/// An installed flow: its immutable <see cref="FlowEntry"/> plus statistics and timing (the
/// analogue of Open vSwitch's struct rule). Statistics are credited by whoever executes the
/// flow's megaflows, possibly from several threads, so counters are updated atomically.
/// </summary>
public sealed class FlowRule
{
    private long _packets;
    private long _bytes;
    private long _lastUsedTicks;

    internal FlowRule(FlowEntry entry, DateTimeOffset installed, long sequence)
    {
        Entry = entry;
        Installed = installed;
        Sequence = sequence;
        _lastUsedTicks = installed.UtcTicks;
    }

    public FlowEntry Entry { get; }

    /// <summary>When the rule was added (duration and hard_timeout count from here).</summary>
    public DateTimeOffset Installed { get; }

    /// <summary>Insertion order: among rules of equal priority, the earlier one wins.</summary>
    internal long Sequence { get; }

    public long Packets => Interlocked.Read(ref _packets);

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>When a packet last hit the rule (idle_timeout counts from here).</summary>
    public DateTimeOffset LastUsed => new(Interlocked.Read(ref _lastUsedTicks), TimeSpan.Zero);

    /// <summary>True once the rule was removed (deleted, replaced or expired).</summary>
    public bool Removed { get; internal set; }

    /// <summary>Adds traffic to the rule and marks it used at <paramref name="now"/>.</summary>
    public void Credit(long packets, long bytes, DateTimeOffset now)
    {
        Interlocked.Add(ref _packets, packets);
        Interlocked.Add(ref _bytes, bytes);
        long ticks = now.UtcTicks;
        long seen = Interlocked.Read(ref _lastUsedTicks);
        while (ticks > seen)
        {
            long prior = Interlocked.CompareExchange(ref _lastUsedTicks, ticks, seen);
            if (prior == seen)
            {
                break;
            }

            seen = prior;
        }
    }

    /// <summary>Why the rule should go at <paramref name="now"/>, or null while it may stay.</summary>
    public RuleRemovalReason? ExpiryAt(DateTimeOffset now)
    {
        if (Entry.HardTimeout != 0 && now - Installed >= TimeSpan.FromSeconds(Entry.HardTimeout))
        {
            return RuleRemovalReason.HardTimeout;
        }

        if (Entry.IdleTimeout != 0 && now - LastUsed >= TimeSpan.FromSeconds(Entry.IdleTimeout))
        {
            return RuleRemovalReason.IdleTimeout;
        }

        return null;
    }

    public override string ToString() => Entry.ToString();
}

/// <summary>Why a rule left its table (OFPRR_*).</summary>
public enum RuleRemovalReason : byte
{
    IdleTimeout,
    HardTimeout,
    Delete,
}

/// <summary>A rule that was removed, and why.</summary>
public readonly record struct RemovedRule(FlowRule Rule, RuleRemovalReason Reason);
