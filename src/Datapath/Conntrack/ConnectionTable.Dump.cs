namespace Datapath.Conntrack;

/// <summary>Flush and enumeration (cold paths: dump-conntrack, flush-conntrack).</summary>
public sealed partial class ConnectionTable
{
    /// <summary>Removes every connection, or those of one zone (OVS conntrack_flush / flush zone).</summary>
    /// <returns>The number removed.</returns>
    public int Flush(ushort? zone = null, List<RemovedConnection>? removed = null)
    {
        int count = 0;
        for (int slot = 0; slot < _highWater; slot++)
        {
            ref var entry = ref _entries[slot];
            if (entry.InUse && (zone is null || entry.Key.Zone == zone.Value))
            {
                removed?.Add(new RemovedConnection(entry.Key, entry.Hash, RemovalReason.Flushed));
                Remove(slot, RemovalReason.Flushed);
                count++;
            }
        }

        return count;
    }

    /// <summary>A copy of every connection (or of one zone's) for dumps, in slot order.</summary>
    public List<ConnectionSnapshot> Snapshot(ushort? zone = null)
    {
        var list = new List<ConnectionSnapshot>();
        for (int slot = 0; slot < _highWater; slot++)
        {
            ref var e = ref _entries[slot];
            if (e.InUse && (zone is null || e.Key.Zone == zone.Value))
            {
                list.Add(new ConnectionSnapshot(e.Key, e.Mark, e.Label, e.Orig.State, e.Reply.State, e.Timeout, e.Expiration));
            }
        }

        return list;
    }
}
