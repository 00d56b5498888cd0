using System.Numerics;
using System.Runtime.CompilerServices;

namespace Datapath.Conntrack;

/// <summary>Slots, bucket chains and lookup.</summary>
public sealed partial class ConnectionTable
{
    /// <summary>
    /// Finds the connection of <paramref name="key"/> in either direction (OVS conn_key_lookup): its
    /// original key, or its reply tuple (the reverse of the original key unless the connection is
    /// translated; then only its reply key). A connection whose time is up is removed on the spot and
    /// not found, as conn_expired makes it.
    /// </summary>
    /// <returns>The connection's slot, -1, or <see cref="ElsewhereSlot"/> for a reply tuple reserved for another table's connection.</returns>
    private int Lookup(in ConntrackKey key, uint hash, long nowMs, out bool reply)
    {
        reply = false;
        var entries = _entries;
        for (int slot = _buckets[BucketOf(hash)]; slot >= 0; slot = entries[slot].Next)
        {
            ref var entry = ref entries[slot];
            if (entry.Hash != hash)
            {
                continue;
            }

            int owner = slot;
            if (entry.Kind == EntryKind.Connection)
            {
                if (ConntrackKey.Equals(in entry.Key, in key))
                {
                    reply = false;
                }
                else if (entry.Link < 0 && ConntrackKey.IsReverseOf(in entry.Key, in key))
                {
                    reply = true;
                }
                else
                {
                    continue;
                }
            }
            else if (ConntrackKey.Equals(in entry.Key, in key))
            {
                if (entry.Kind == EntryKind.RemoteReplyKey)
                {
                    _elsewhereKey = entry.Key;
                    return ElsewhereSlot;
                }

                owner = entry.Link;
                reply = true;
            }
            else
            {
                continue;
            }

            if (nowMs >= entries[owner].Expiration)
            {
                ExpireOnLookup(owner);
                reply = false;
                return -1;
            }

            return owner;
        }

        return -1;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ExpireOnLookup(int slot) => Remove(slot, RemovalReason.Expired);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int BucketOf(uint hash) => (int)((hash * 0x9E37_79B9u) >> _bucketShift);

    private int Allocate()
    {
        if (_freeHead >= 0)
        {
            int slot = _freeHead;
            _freeHead = _entries[slot].Next;
            return slot;
        }

        if (_highWater == _entries.Length)
        {
            Grow();
        }

        return _highWater++;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow()
    {
        Array.Resize(ref _entries, _entries.Length * 2);
        _buckets = NewBuckets(_entries.Length, out _bucketShift);
        for (int slot = 0; slot < _highWater; slot++)
        {
            if (_entries[slot].InUse)
            {
                LinkBucket(slot);
            }
        }
    }

    private static int[] NewBuckets(int capacity, out int shift)
    {
        int count = (int)BitOperations.RoundUpToPowerOf2((uint)capacity);
        shift = 32 - BitOperations.Log2((uint)count);
        var buckets = new int[count];
        Array.Fill(buckets, -1);
        return buckets;
    }

    private void LinkBucket(int slot)
    {
        ref int head = ref _buckets[BucketOf(_entries[slot].Hash)];
        _entries[slot].Next = head;
        head = slot;
    }

    private void UnlinkBucket(int slot)
    {
        ref int link = ref _buckets[BucketOf(_entries[slot].Hash)];
        while (link != slot)
        {
            link = ref _entries[link].Next;
        }

        link = _entries[slot].Next;
    }

    /// <summary>Removes a connection, frees its slots (its reply key's too) and queues its removal notice.</summary>
    private void Remove(int slot, RemovalReason reason)
    {
        ref var entry = ref _entries[slot];
        NoteRemoved(in entry.Key);
        UnlinkBucket(slot);
        UnlinkExpiry(slot);
        if (entry.Link >= 0)
        {
            RemoveReplyKey(entry.Link);
            entry.Link = -1;
        }

        Count--;
        _zoneCounts[entry.Key.Zone]--;
        Stats.Record(reason switch
        {
            RemovalReason.Expired => ConntrackCounter.Expired,
            RemovalReason.Replaced => ConntrackCounter.Replaced,
            _ => ConntrackCounter.Flushed,
        });

        if (entry.BypassHolders != 0)
        {
            NotifyBypassHolders(ref entry, BypassNoticeReason.Removed);
        }

        if (reason != RemovalReason.Flushed)
        {
            Notify(new RemovedConnection(entry.Key, entry.Hash, reason));
        }

        FreeSlot(slot);
    }

    private void RemoveReplyKey(int alias)
    {
        ref var replyKey = ref _entries[alias];
        if (replyKey.ClaimedElsewhere)
        {
            QueueReplyRelease(in replyKey.Key, in _entries[replyKey.Link].Key);
        }

        UnlinkBucket(alias);
        FreeSlot(alias);
    }

    private void FreeSlot(int slot)
    {
        ref var entry = ref _entries[slot];
        entry.InUse = false;
        entry.Kind = EntryKind.Connection;
        entry.Link = -1;
        entry.ClaimedElsewhere = false;
        entry.Next = _freeHead;
        _freeHead = slot;
    }

    private void Notify(in RemovedConnection removed)
    {
        if (_pendingRemovals.Count < MaxPendingRemovals)
        {
            _pendingRemovals.Add(removed);
        }
        else
        {
            LostRemovalNotices++;
        }
    }

    /// <summary>Removal notices dropped because nobody drained them (see <see cref="Sweep"/>).</summary>
    public long LostRemovalNotices { get; private set; }
}
