using Actors.Wire;
using Akka.Actor;
using Datapath.Actions;
using Datapath.Conntrack;

namespace Actors.Conntrack;

// The messages a conntrack shard actor receives and the replies it sends, all wire messages
// (Hyperion, see hocon/datapath.conf). Per-packet data travel as arrays of plain structs: one
// message per shard per PMD batch, never one per packet. A sender hands its arrays over and
// never touches them again.

/// <summary>
/// Runs a batch's packets of one shard through conntrack, in array order, with one ct(...)
/// action: the actor answers the sender with <see cref="ConnectionsTracked"/> (same
/// <paramref name="BatchId"/>, one result per input, same order).
/// </summary>
/// <param name="Shard">The shard that owns every input's connection (<see cref="ConntrackShards.ShardOf"/>).</param>
/// <param name="BatchId">The sender's tag, echoed in the reply so it can match replies to batches.</param>
/// <param name="NowMs">The sender's clock in milliseconds (wall clock, or capture time in a replay); the shard never goes back in time.</param>
/// <param name="Args">The ct action: zone, commit, mark and label under masks.</param>
/// <param name="Inputs">The packets' conntrack inputs (<see cref="ConntrackInput.TryParse"/>).</param>
public sealed record TrackConnections(int Shard, long BatchId, long NowMs, ConntrackArgs Args, ConntrackInput[] Inputs) : IConntrackShardMessage;

/// <summary>The answer to <see cref="TrackConnections"/>: <paramref name="Results"/>[i] belongs to its Inputs[i].</summary>
public sealed record ConnectionsTracked(int Shard, long BatchId, ConntrackResult[] Results) : IWireMessage;

/// <summary>Removes every connection of the shard, or those of one zone (flush-conntrack [zone]); answered with <see cref="ConnectionsFlushed"/>.</summary>
public sealed record FlushConnections(ushort? Zone) : IWireMessage;

/// <summary>How many connections a <see cref="FlushConnections"/> removed.</summary>
public sealed record ConnectionsFlushed(int Shard, int Count) : IWireMessage;

/// <summary>
/// Asks for the shard's connections (or one zone's) as dump-conntrack lines; answered with
/// <see cref="ConnectionsDumped"/>. With <paramref name="MaxLines"/>, one page of at most that many
/// from slot <paramref name="FromSlot"/> on (a dump of any size in bounded messages, the shard free
/// to track packets between pages); without, all of them.
/// </summary>
public sealed record DumpConnections(ushort? Zone, int FromSlot = 0, int? MaxLines = null) : IWireMessage;

/// <summary>
/// One line per connection in Open vSwitch's dpctl/dump-conntrack format (<see cref="ConntrackFormatter.FormatEntry"/>);
/// <paramref name="NextSlot"/> is where the next page starts, -1 when there is no more.
/// </summary>
public sealed record ConnectionsDumped(int Shard, string[] Lines, int NextSlot = -1) : IWireMessage;

/// <summary>Asks for the shard's counts; answered with <see cref="ShardStatistics"/>.</summary>
public sealed record GetShardStatistics : IWireMessage
{
    public static GetShardStatistics Instance { get; } = new();

    private GetShardStatistics()
    {
    }
}

/// <summary>One shard's counts since it (re)started.</summary>
/// <param name="Connections">Connections in the table now.</param>
/// <param name="Batches">TrackConnections messages handled.</param>
/// <param name="Packets">Packets tracked.</param>
/// <param name="SweepSlices">Sweep slices run (each removes at most the sweep budget).</param>
/// <param name="Counters">The table's counters, indexed by <see cref="ConntrackCounter"/>.</param>
public sealed record ShardStatistics(int Shard, int Connections, long Batches, long Packets, long SweepSlices, long[] Counters) : IWireMessage
{
    public long this[ConntrackCounter counter] => Counters[(int)counter];
}

/// <summary>
/// Operator reset of one shard: the actor fails on purpose and its supervisor (the sharding Shard
/// actor, default strategy) restarts it with an empty table. Only this shard's connections are
/// lost; their next packets are new again. No reply.
/// </summary>
public sealed record RestartShard : IWireMessage
{
    public static RestartShard Instance { get; } = new();

    private RestartShard()
    {
    }
}

/// <summary>
/// Carries a shard-wide command (<see cref="FlushConnections"/>, <see cref="DumpConnections"/>,
/// <see cref="GetShardStatistics"/>, <see cref="RestartShard"/>) to one shard through the
/// region; the shard actor receives <paramref name="Message"/> itself.
/// </summary>
public sealed record ConntrackEnvelope(int Shard, IWireMessage Message) : IConntrackShardMessage;

/// <summary>
/// Owns one partition of the connection table (the connections whose hash maps to this shard)
/// and drives it: the sharding entity of type "conntrack" whose entity id is the shard number.
/// Packets arrive in batches (<see cref="TrackConnections"/>); expiry is swept on a timer in
/// bounded slices.
///
/// Time: the table runs on the shard's clock, which is the latest <see cref="TrackConnections.NowMs"/>
/// seen plus the scheduler time elapsed since (virtual under the TestKit's test scheduler), and
/// never goes back. So a replay that follows capture timestamps and an idle period both expire
/// connections when they should.
/// </summary>
public sealed class ConntrackShardActor : ReceiveActor, IWithTimers
{
    private const string SweepTimer = "sweep";

    private readonly int _shard;
    private readonly ConntrackSettings _settings;
    private readonly ConnectionTable _table;
    private readonly IScheduler _scheduler;
    private long _clockMs;
    private DateTimeOffset _clockAt;
    private long _batches;
    private long _packets;
    private long _sweepSlices;

    // Recirculation bypass: the PMDs that watch connections, by holder bit (the table keeps the bits).
    private readonly List<IActorRef> _holders = [];
    private readonly List<BypassNotice> _notices = [];

    public ConntrackShardActor(int shard, ConntrackSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _shard = shard;
        _settings = settings;
        _table = new ConnectionTable(settings.ShardOptions());
        _scheduler = Context.System.Scheduler;
        _clockAt = _scheduler.Now;

        Receive<TrackConnections>(HandleTrack);
        Receive<SweepExpired>(_ => HandleSweep());
        Receive<FlushConnections>(HandleFlush);
        Receive<DumpConnections>(HandleDump);
        Receive<GetShardStatistics>(_ => HandleStatistics());
        Receive<RestartShard>(_ => HandleRestart());
        Receive<BypassFlowInstalled>(HandleBypassFlowInstalled);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(int shard, ConntrackSettings settings) =>
        Akka.Actor.Props.Create(() => new ConntrackShardActor(shard, settings));

    protected override void PreStart() => ScheduleSweep();

    private void HandleTrack(TrackConnections message)
    {
        long now = Math.Max(message.NowMs, NowMs());
        _clockMs = now;
        _clockAt = _scheduler.Now;

        var results = new ConntrackResult[message.Inputs.Length];
        var args = message.Args;
        _table.Execute(message.Inputs, in args, now, results);
        _batches++;
        _packets += results.Length;
        Sender.Tell(new ConnectionsTracked(_shard, message.BatchId, results));
        RevokeBypassFlows();
    }

    private void HandleBypassFlowInstalled(BypassFlowInstalled message)
    {
        var key = message.Key;
        if (!_table.WatchBypassFlow(in key, message.ShardHash, HolderBit(Sender), NowMs()))
        {
            Sender.Tell(new BypassFlowsRevoked(_shard, [key], [message.ShardHash]));
        }
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

    /// <summary>Tells each watching PMD, in one message, which of its connections left the established state.</summary>
    private void RevokeBypassFlows()
    {
        if (_table.PendingBypassNotices == 0)
        {
            return;
        }

        _notices.Clear();
        _table.DrainBypassNotices(_notices);
        for (int index = 0; index < _holders.Count; index++)
        {
            ulong bit = 1UL << Math.Min(index, 63);
            var keys = new List<ConntrackKey>();
            var hashes = new List<uint>();
            foreach (var notice in _notices)
            {
                if ((notice.Holders & bit) != 0)
                {
                    keys.Add(notice.Key);
                    hashes.Add(notice.ShardHash);
                }
            }

            if (keys.Count > 0)
            {
                _holders[index].Tell(new BypassFlowsRevoked(_shard, keys.ToArray(), hashes.ToArray()));
            }
        }
    }

    private void HandleSweep()
    {
        int budget = _settings.SweepBudget;
        int expired = _table.Sweep(NowMs(), budget);
        _sweepSlices++;
        RevokeBypassFlows();
        if (expired == budget)
        {
            // More may be due: the next slice goes behind the packets already queued.
            Self.Tell(SweepExpired.Instance);
        }
        else
        {
            ScheduleSweep();
        }
    }

    private void HandleFlush(FlushConnections message)
    {
        Sender.Tell(new ConnectionsFlushed(_shard, _table.Flush(message.Zone)));
        RevokeBypassFlows();
    }

    private void HandleDump(DumpConnections message)
    {
        int next = -1;
        List<ConnectionSnapshot> snapshot;
        if (message.MaxLines is { } max)
        {
            snapshot = new List<ConnectionSnapshot>(Math.Clamp(max, 0, 4096));
            next = _table.SnapshotPage(message.Zone, message.FromSlot, Math.Max(max, 1), snapshot);
        }
        else
        {
            snapshot = _table.Snapshot(message.Zone);
        }

        var lines = new string[snapshot.Count];
        for (int i = 0; i < lines.Length; i++)
        {
            lines[i] = ConntrackFormatter.FormatEntry(snapshot[i]);
        }

        Sender.Tell(new ConnectionsDumped(_shard, lines, next));
    }

    private void HandleStatistics()
    {
        var counters = new long[Enum.GetValues<ConntrackCounter>().Length];
        for (int i = 0; i < counters.Length; i++)
        {
            counters[i] = _table.Stats[(ConntrackCounter)i];
        }

        Sender.Tell(new ShardStatistics(_shard, _table.Count, _batches, _packets, _sweepSlices, counters));
    }

    private void HandleRestart() => throw new ShardRestartRequestedException(_shard);

    private void ScheduleSweep() => Timers.StartSingleTimer(SweepTimer, SweepExpired.Instance, _settings.SweepInterval);

    /// <summary>The shard's clock: the latest sender time plus the scheduler time elapsed since (nothing added with a frame clock).</summary>
    private long NowMs() => _settings.FrameClock ? _clockMs : _clockMs + (long)(_scheduler.Now - _clockAt).TotalMilliseconds;

    /// <summary>The sweep tick; local to the actor, never serialized.</summary>
    private sealed class SweepExpired : INoSerializationVerificationNeeded
    {
        public static readonly SweepExpired Instance = new();
    }
}

/// <summary>Thrown by a shard on <see cref="RestartShard"/> so that its supervisor restarts it empty.</summary>
public sealed class ShardRestartRequestedException : Exception
{
    public ShardRestartRequestedException(int shard)
        : base($"conntrack shard {shard}: restart requested by the operator")
    {
        Shard = shard;
    }

    public ShardRestartRequestedException()
    {
    }

    public ShardRestartRequestedException(string message)
        : base(message)
    {
    }

    public ShardRestartRequestedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public int Shard { get; }
}
