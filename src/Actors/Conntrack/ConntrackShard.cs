using Akka.Actor;
using Datapath.Actions;
using Datapath.Conntrack;

namespace Actors.Conntrack;

/// <summary>
/// The state of one conntrack shard: its part of the connection table, its clock, its counters and
/// the PMDs that watch its connections' bypass flows. A plain class with exactly one owner at a time:
/// the shard's sharding entity (<see cref="ConntrackShardActor"/>) or, lent by it, the PMD that hosts
/// the shard on its own thread (docs/architecture.md, "Where a shard lives"). Whoever owns it answers the
/// shard's messages through <see cref="Handle"/>, so a message means the same whoever owns the shard.
///
/// Time: the table runs on the shard's clock, which is the latest sender time seen plus the scheduler
/// time elapsed since (virtual under the TestKit's test scheduler), and never goes back. So a replay
/// that follows capture timestamps and an idle period both expire connections when they should.
/// </summary>
public sealed partial class ConntrackShard
{
    private readonly List<IActorRef> _holders = [];
    private readonly List<BypassNotice> _notices = [];
    private long _clockMs;
    private DateTimeOffset _clockAt;

    public ConntrackShard(int id, ConntrackSettings settings, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Id = id;
        Settings = settings;
        _claims = new ShardReplyClaims(this);
        Table = NewTable();
        _clockAt = now;
    }

    public int Id { get; }

    public ConntrackSettings Settings { get; }

    public ConnectionTable Table { get; private set; }

    /// <summary>Batches tracked (one per message or per local request).</summary>
    public long Batches { get; private set; }

    public long Packets { get; private set; }

    public long SweepSlices { get; private set; }

    /// <summary>The shard's clock at scheduler time <paramref name="now"/> (the latest sender time alone with a frame clock: a replay's expiry follows the capture, as inline).</summary>
    public long NowMs(DateTimeOffset now) => Settings.FrameClock ? _clockMs : _clockMs + (long)(now - _clockAt).TotalMilliseconds;

    /// <summary>
    /// Runs <paramref name="inputs"/> through the table in order with one ct action, on the later of
    /// the sender's clock and the shard's. Allocation-free: the local path of a hosting PMD.
    /// </summary>
    /// <returns>
    /// True when every result is in <paramref name="results"/>; false when the shard keeps the batch
    /// because a new translated connection waits for a claim's answer (or an earlier batch does):
    /// it answers <paramref name="later"/> with the whole batch once it has run.
    /// </returns>
    public bool TryExecute(ReadOnlySpan<ConntrackInput> inputs, in ConntrackArgs args, long senderMs, DateTimeOffset now, Span<ConntrackResult> results, IDeferredConntrackAnswers later, long requestId, ReadOnlySpan<int> indices)
    {
        Batches++;
        Packets += inputs.Length;
        if (_deferred.Count > 0)
        {
            Defer(new LocalBatch(inputs.ToArray(), args, senderMs, new ConntrackResult[inputs.Length], later, requestId, indices.ToArray()));
            return false;
        }

        int done = Table.ExecuteUntilClaim(inputs, in args, Tick(senderMs, now), results);
        if (done == inputs.Length)
        {
            return true;
        }

        // The results past the one waiting are written when the batch resumes; cleared so that what
        // is kept never holds a caller's stale stack bytes (its buffers may be uninitialised).
        results[done..inputs.Length].Clear();
        var batch = new LocalBatch(inputs.ToArray(), args, senderMs, results[..inputs.Length].ToArray(), later, requestId, indices.ToArray()) { Next = done };
        Defer(batch);
        return false;
    }

    private long Tick(long senderMs, DateTimeOffset now)
    {
        long clock = Math.Max(senderMs, NowMs(now));
        _clockMs = clock;
        _clockAt = now;
        return clock;
    }

    /// <summary>
    /// Answers one of the shard's messages for its owner: <paramref name="sender"/> gets the reply (a
    /// forwarded message keeps its original sender). Returns false for a message that is not the
    /// shard's, and for <see cref="RestartShard"/>, which the owner carries out (<see cref="Reset"/>,
    /// or restarting the actor that owns the shard).
    /// </summary>
    public bool Handle(object message, IActorRef sender, DateTimeOffset now)
    {
        switch (message)
        {
            case TrackConnections track:
                Track(track, sender, now);
                return true;

            case BypassFlowInstalled installed:
                var key = installed.Key;
                if (!Table.WatchBypassFlow(in key, installed.ShardHash, HolderBit(sender), NowMs(now)))
                {
                    sender.Tell(new BypassFlowsRevoked(Id, [key], [installed.ShardHash]));
                }

                return true;

            case FlushConnections flush:
                sender.Tell(new ConnectionsFlushed(Id, Table.Flush(flush.Zone)));
                return true;

            case FlushConnectionsMatching flush:
                sender.Tell(new ConnectionsFlushed(Id, Table.Flush(ConntrackFlushFilter.Parse(flush.Filter))));
                return true;

            case ConfigureConntrack configure:
                Configure(configure);
                sender.Tell(Limits(null));
                return true;

            case GetConntrackLimits limits:
                sender.Tell(Limits(limits.Zones));
                return true;

            case CountConnections count:
                sender.Tell(new ConnectionsCounted(Id, ConntrackProtocolCounts.Of(Table.Snapshot(count.Zone, NowMs(now)))));
                return true;

            case DumpConnections dump:
                sender.Tell(Dump(dump));
                return true;

            case GetShardStatistics:
                sender.Tell(Statistics());
                return true;

            default:
                return HandleReplication(message, now) || HandleClaim(message, sender, now);
        }
    }

    /// <summary>Operator reset (<see cref="RestartShard"/>): every connection is forgotten, as when the shard's actor restarts.</summary>
    public void Reset()
    {
        Table = NewTable();
        ForgetClaims();
        _holders.Clear();
        _notices.Clear();
    }

    /// <summary>
    /// Watches a bypass flow of <paramref name="holder"/>'s (<see cref="BypassFlowInstalled"/> without
    /// a message, for the hosting PMD's own). False when the connection has already left the
    /// established state or the table: the holder should revoke the flow at once.
    /// </summary>
    public bool Watch(in ConntrackKey key, uint shardHash, IActorRef holder, DateTimeOffset now) =>
        Table.WatchBypassFlow(in key, shardHash, HolderBit(holder), NowMs(now));

    /// <summary>
    /// Tells every watching PMD, one message each, which of its connections left the established
    /// state; the notices for <paramref name="local"/> (the hosting PMD) go to <paramref name="revokeLocal"/>
    /// instead, with no message. Call after anything that touched the table.
    /// </summary>
    public void DeliverNotices(IActorRef? local, Action<ConntrackKey, uint>? revokeLocal)
    {
        FlushReleases();
        if (Table.PendingBypassNotices == 0)
        {
            return;
        }

        _notices.Clear();
        Table.DrainBypassNotices(_notices);
        for (int index = 0; index < _holders.Count; index++)
        {
            ulong bit = 1UL << Math.Min(index, 63);
            var holder = _holders[index];
            bool isLocal = revokeLocal is not null && holder.Equals(local);
            List<ConntrackKey>? keys = null;
            List<uint>? hashes = null;
            foreach (var notice in _notices)
            {
                if ((notice.Holders & bit) == 0)
                {
                    continue;
                }

                if (isLocal)
                {
                    revokeLocal!(notice.Key, notice.ShardHash);
                    continue;
                }

                (keys ??= []).Add(notice.Key);
                (hashes ??= []).Add(notice.ShardHash);
            }

            if (keys is not null)
            {
                holder.Tell(new BypassFlowsRevoked(Id, keys.ToArray(), hashes!.ToArray()));
            }
        }
    }

    /// <summary>One slice of expiry (at most the sweep budget); true when more may be due (the owner runs the next slice soon, behind the packets queued).</summary>
    public bool Sweep(DateTimeOffset now)
    {
        int budget = Settings.SweepBudget;
        int expired = Table.Sweep(NowMs(now), budget);
        SweepSlices++;
        return expired == budget;
    }

    public ShardStatistics Statistics()
    {
        var counters = new long[Enum.GetValues<ConntrackCounter>().Length];
        for (int i = 0; i < counters.Length; i++)
        {
            counters[i] = Table.Stats[(ConntrackCounter)i];
        }

        return new ShardStatistics(Id, Table.Count, Batches, Packets, SweepSlices, counters);
    }

    private ConnectionsDumped Dump(DumpConnections message)
    {
        int next = -1;
        List<ConnectionSnapshot> snapshot;
        if (message.MaxLines is { } max)
        {
            snapshot = new List<ConnectionSnapshot>(Math.Clamp(max, 0, 4096));
            next = Table.SnapshotPage(message.Zone, message.FromSlot, Math.Max(max, 1), snapshot);
        }
        else
        {
            snapshot = Table.Snapshot(message.Zone);
        }

        var lines = new string[snapshot.Count];
        for (int i = 0; i < lines.Length; i++)
        {
            lines[i] = ConntrackFormatter.FormatEntry(snapshot[i]);
        }

        return new ConnectionsDumped(Id, lines, next);
    }

    /// <summary>
    /// The holder bit of a PMD. Past 63 PMDs the last bit is shared, and its notices go to every
    /// PMD from the 64th on (a few needless revocations, never a missed one).
    /// </summary>
    private ulong HolderBit(IActorRef pmd)
    {
        int index = _holders.IndexOf(pmd);
        if (index < 0)
        {
            _holders.Add(pmd);
            index = _holders.Count - 1;
        }

        return 1UL << Math.Min(index, 63);
    }
}
