namespace Datapath.Conntrack;

/// <summary>Flush and enumeration (cold paths: dump-conntrack, flush-conntrack).</summary>
public sealed partial class ConnectionTable
{
    /// <summary>Removes every connection, or those of one zone (OVS conntrack_flush / flush zone).</summary>
    /// <returns>The number removed.</returns>
    public int Flush(ushort? zone = null, List<RemovedConnection>? removed = null) =>
        Flush(zone is { } z ? new ConntrackFlushFilter { Zone = z } : ConntrackFlushFilter.All, removed);

    /// <summary>
    /// Removes the connections <paramref name="filter"/> selects (OVS 3.x dpctl/flush-conntrack with a
    /// zone, mark, labels and original / reply tuples; conntrack_flush_with_match).
    /// </summary>
    /// <returns>The number removed.</returns>
    public int Flush(ConntrackFlushFilter filter, List<RemovedConnection>? removed = null)
    {
        ArgumentNullException.ThrowIfNull(filter);
        int count = 0;
        for (int slot = 0; slot < _highWater; slot++)
        {
            ref var entry = ref _entries[slot];
            if (entry.InUse && entry.Kind == EntryKind.Connection
                && filter.Matches(in entry.Key, ReplyKeyOf(slot), entry.Mark, entry.Label))
            {
                removed?.Add(new RemovedConnection(entry.Key, entry.Hash, RemovalReason.Flushed));
                Remove(slot, RemovalReason.Flushed);
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// A copy of every connection (or of one zone's) for dumps, in slot order; with
    /// <paramref name="nowMs"/>, those whose time is up are left out, as conntrack_dump_next does.
    /// </summary>
    public List<ConnectionSnapshot> Snapshot(ushort? zone = null, long? nowMs = null)
    {
        var list = new List<ConnectionSnapshot>();
        for (int slot = 0; slot < _highWater; slot++)
        {
            ref var e = ref _entries[slot];
            if (e.InUse && e.Kind == EntryKind.Connection && (zone is null || e.Key.Zone == zone.Value)
                && (nowMs is not { } now || now < e.Expiration))
            {
                list.Add(new ConnectionSnapshot(e.Key, e.Mark, e.Label, e.Orig.State, e.Reply.State, e.Timeout, e.Expiration)
                {
                    ReplyKey = ReplyKeyOf(slot),
                    TimeoutPolicy = PolicyName(e.Policy),
                });
            }
        }

        return list;
    }

    /// <summary>
    /// One page of a dump: up to <paramref name="max"/> connections (of one zone, or all) from slot
    /// <paramref name="fromSlot"/> on, added to <paramref name="page"/>. Slots stay put while
    /// connections come and go, so a dump that resumes at the returned slot sees every connection
    /// that lived through it once (as Open vSwitch's dump, not a snapshot of one instant).
    /// </summary>
    /// <returns>The slot to resume from, or -1 when the table has no more.</returns>
    public int SnapshotPage(ushort? zone, int fromSlot, int max, List<ConnectionSnapshot> page)
    {
        ArgumentNullException.ThrowIfNull(page);
        int slot = Math.Max(fromSlot, 0);
        for (; slot < _highWater && max > 0; slot++)
        {
            ref var e = ref _entries[slot];
            if (e.InUse && (zone is null || e.Key.Zone == zone.Value))
            {
                page.Add(new ConnectionSnapshot(e.Key, e.Mark, e.Label, e.Orig.State, e.Reply.State, e.Timeout, e.Expiration));
                max--;
            }
        }

        return slot < _highWater ? slot : -1;
    }
}
