using Datapath.Conntrack;
using Datapath.Conntrack.Nat;

namespace Actors.Conntrack;

/// <summary>
/// How one conntrack shard decides the reply tuple of a new translated connection it owns
/// (ConnectionTable.Nat): a candidate of its own buckets is checked in its own table; one of a
/// shard that its owner also holds (a PMD hosting both) is reserved there in place; any other is
/// asked by message, and the search waits (<see cref="ReplyClaim.Pending"/>) and runs again with the
/// answers recorded here. A reservation held for a connection whose owner may have expired it is
/// decided by that owner, in place when it can be. Owned by the shard's owner, like the shard.
/// </summary>
internal sealed class ShardReplyClaims(ConntrackShard shard) : IReplyTupleClaims
{
    private readonly Dictionary<ConntrackKey, bool> _answers = [];
    private ConntrackKey _searchFor;
    private bool _searching;
    private ConntrackKey? _used;

    /// <summary>The question to send when the last search stopped at <see cref="ReplyClaim.Pending"/>.</summary>
    public IConntrackShardMessage? Question { get; private set; }

    public ReplyClaim TryClaim(in ConntrackKey reply, uint replyHash, in ConntrackKey original, long nowMs)
    {
        if (!_searching || !ConntrackKey.Equals(in _searchFor, in original))
        {
            EndSearch();
            _searching = true;
            _searchFor = original;
        }

        if (_answers.TryGetValue(reply, out bool granted))
        {
            if (!granted)
            {
                return ReplyClaim.Taken;
            }

            _used = reply;
            return ClaimKind(replyHash);
        }

        int target = ConntrackShards.ShardOf(replyHash, shard.Settings.Shards);
        if (target == shard.Id)
        {
            return ClaimHere(in reply, in original, nowMs);
        }

        if (shard.Peer(target) is { } peer)
        {
            var use = peer.ReserveInPlace(in reply, in original, nowMs);
            if (use is { } known)
            {
                if (!known)
                {
                    return ReplyClaim.Taken;
                }

                _answers[reply] = true;
                _used = reply;
                return ReplyClaim.ClaimedElsewhere;
            }
        }

        Question = new ReserveReplyTuple(target, shard.Id, reply, original, nowMs);
        return ReplyClaim.Pending;
    }

    /// <summary>The search ended (a tuple claimed, or none free): reservations it won but did not use are given back.</summary>
    public void SearchEnded(in ConntrackKey original, ReplyClaim outcome)
    {
        if (outcome != ReplyClaim.Pending)
        {
            EndSearch();
        }
    }

    /// <summary>An answer to <see cref="Question"/>: the search will know it when it runs again.</summary>
    public void Record(in ConntrackKey original, in ConntrackKey reply, bool granted)
    {
        Question = null;
        if (_searching && ConntrackKey.Equals(in _searchFor, in original))
        {
            _answers[reply] = granted;
        }
        else if (granted)
        {
            // The search it was for is over: nothing will use the reservation.
            shard.Release(in reply, in original);
        }
    }

    /// <summary>The answer to a question about a tuple of this shard's own buckets held for a connection elsewhere.</summary>
    public void RecordOwnerChecked(in ConntrackKey holder, in ConntrackKey reply, bool alive)
    {
        Question = null;
        if (!alive)
        {
            shard.Table.ReleaseReplyTuple(in reply, in holder);
        }
        else if (_searching)
        {
            _answers[reply] = false;
        }
    }

    private ReplyClaim ClaimHere(in ConntrackKey reply, in ConntrackKey original, long nowMs)
    {
        var use = shard.Table.CheckReplyTuple(in reply, nowMs, out var holder);
        if (use == ReplyUse.Reserved && ConntrackKey.Equals(in holder, in original))
        {
            return ReplyClaim.Taken;
        }

        if (use == ReplyUse.Reserved)
        {
            switch (shard.HolderAlive(in holder, in reply, nowMs))
            {
                case false:
                    shard.Table.ReleaseReplyTuple(in reply, in holder);
                    use = shard.Table.CheckReplyTuple(in reply, nowMs, out _);
                    break;
                case true:
                    return ReplyClaim.Taken;
                default:
                    Question = new CheckReplyOwner(shard.OwnerShardOf(in holder), shard.Id, holder, reply, nowMs, ForClaim: true);
                    return ReplyClaim.Pending;
            }
        }

        return use == ReplyUse.Free ? ReplyClaim.ClaimedHere : ReplyClaim.Taken;
    }

    private ReplyClaim ClaimKind(uint replyHash) =>
        ConntrackShards.ShardOf(replyHash, shard.Settings.Shards) == shard.Id ? ReplyClaim.ClaimedHere : ReplyClaim.ClaimedElsewhere;

    private void EndSearch()
    {
        foreach (var (reply, granted) in _answers)
        {
            if (granted && !(_used is { } used && ConntrackKey.Equals(in used, in reply)))
            {
                shard.Release(in reply, in _searchFor);
            }
        }

        _answers.Clear();
        _used = null;
        _searching = false;
        Question = null;
    }
}
