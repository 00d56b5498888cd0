using Actors.Conntrack.Handoff;
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

/// <summary>
/// The answer to <see cref="TrackConnections"/>: <paramref name="Results"/>[i] belongs to its Inputs[i].
/// When some result says <see cref="ConntrackResult.OwnedElsewhere"/> (a reply tuple of a translated
/// connection another shard owns), <paramref name="Inputs"/> hands the inputs back, so the sender can
/// send those on to their owner.
/// </summary>
public sealed record ConnectionsTracked(int Shard, long BatchId, ConntrackResult[] Results, ConntrackInput[]? Inputs = null) : IWireMessage;

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
/// The sharding entity of type "conntrack" whose entity id is the shard number: the owner of one
/// partition of the connection table (a <see cref="ConntrackShard"/>, the connections whose hash maps
/// to this shard) as far as the cluster is concerned. Where it can, it lends the shard to the PMD of
/// its node that hosts it (<see cref="ConntrackHosts"/>), so that the PMD tracks its own packets of
/// the shard on its own thread with no message; the entity then forwards the shard's messages to the
/// PMD (keeping their senders) and the PMD answers them. One owner at a time: the shard's state moves
/// by message (<see cref="HostShard"/>, <see cref="ShardReturned"/>) and its sender never touches
/// it again. With no host on its node the entity runs the shard itself: packets arrive in batches
/// (<see cref="TrackConnections"/>) and expiry is swept on a timer in bounded slices.
/// </summary>
public sealed partial class ConntrackShardActor : ReceiveActor, IWithTimers, IWithUnboundedStash
{
    private const string SweepTimer = "sweep";
    private const string ReturnTimer = "return";

    // How long a host that stopped may take to give the shard back before the shard counts as lost.
    private static readonly TimeSpan ReturnPatience = TimeSpan.FromSeconds(5);

    private readonly int _shard;
    private readonly ConntrackSettings _settings;
    private readonly IScheduler _scheduler;
    private readonly IActorRef? _region;
    private readonly bool _claimOnStart;

    // The shard while this entity runs it; null while a PMD hosts it (or while it is on its way back).
    private ConntrackShard? _state;
    private IActorRef? _host;

    /// <param name="region">The conntrack region, which the shard's questions to other shards go through (translated connections); none for a shard alone.</param>
    /// <param name="claimOnStart">A sharding entity: its table may be on another node (a moved shard); claim it before answering.</param>
    public ConntrackShardActor(int shard, ConntrackSettings settings, Func<IActorRef>? region = null, bool claimOnStart = false)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _shard = shard;
        _settings = settings;
        _claimOnStart = claimOnStart;
        _scheduler = Context.System.Scheduler;
        _region = region?.Invoke();
        _state = new ConntrackShard(shard, settings, _scheduler.Now);
        _state.AttachTo(_region ?? ActorRefs.Nobody, null);
        Running();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    public static Props Props(int shard, ConntrackSettings settings, Func<IActorRef>? region = null, bool claimOnStart = false) =>
        Akka.Actor.Props.Create(() => new ConntrackShardActor(shard, settings, region, claimOnStart));

    protected override void PreStart()
    {
        if (_claimOnStart && BeginClaim())
        {
            return;
        }

        if (!TryLend())
        {
            ScheduleSweep();
        }

        StartReplicating();
    }

    /// <summary>Restarted (an operator reset, or a failure): empty, as a restart promises; neither a moved table nor a replica is claimed, and the replica gets the empty table.</summary>
    protected override void PostRestart(Exception reason)
    {
        if (!TryLend())
        {
            ScheduleSweep();
        }

        StartReplicating();
    }

    /// <summary>Stopping (hand-off, shutdown) while lent: the host lets the shard go.</summary>
    protected override void PostStop()
    {
        _host?.Tell(new ReleaseShard(_shard), ActorRefs.NoSender);
    }

    /// <summary>Runs the shard itself.</summary>
    private void Running()
    {
        Receive<SweepExpired>(_ => HandleSweep());
        Receive<RestartShard>(_ => throw new ShardRestartRequestedException(_shard));
        Receive<FindShardHost>(_ => TryLend());
        Receive<HandOffShard>(_ => ParkAndStop());
        Receive<ReplicateTick>(_ => HandleReplicateTick());
        ReceiveAny(message =>
        {
            if (_state!.Handle(message, Sender, _scheduler.Now))
            {
                _state.DeliverNotices(null, null);
            }
            else
            {
                Unhandled(message);
            }
        });
    }

    /// <summary>A PMD hosts the shard: its messages go there.</summary>
    private void Lent()
    {
        Receive<TrackConnections>(message => _host!.Forward(message));
        Receive<ShardReturned>(HandleReturned);
        Receive<Terminated>(t =>
        {
            // The host stops: its last act gives the shard back, which may still be on its way (a
            // Terminated overtakes user messages). Wait for it, keeping the shard's messages in order.
            if (t.ActorRef.Equals(_host))
            {
                Become(Returning);
                Timers.StartSingleTimer(ReturnTimer, ReturnOverdue.Instance, ReturnPatience);
            }
        });

        // A host that restarted gives the shard back first, then asks for it again: look for a host
        // once the shard is here.
        Receive<FindShardHost>(_ => Stash.Stash());
        Receive<SweepExpired>(_ => { });
        Receive<ReplicateTick>(_ => HandleReplicateTick());
        Receive<HandOffShard>(_ => TakeBackForHandOff());
        ReceiveAny(message => _host!.Forward(new ForShard(_shard, message)));
    }

    /// <summary>Waiting for the shard to come back from a host that stopped: messages wait too, in order.</summary>
    private void Returning()
    {
        Receive<ShardReturned>(HandleReturned);

        // Lost with its host: start again empty, as when a shard's actor restarts.
        Receive<ReturnOverdue>(_ => HandleReturned(new ShardReturned(new ConntrackShard(_shard, _settings, _scheduler.Now))));
        Receive<Terminated>(_ => { });
        Receive<ReplicateTick>(_ => { });
        ReceiveAny(_ => Stash.Stash());
    }

    /// <summary>Lends the shard to this node's host PMD, if there is one (and the shard is here to lend).</summary>
    private bool TryLend()
    {
        if (_state is null || ConntrackHosts.Get(Context.System).HostOf(_shard) is not { } host)
        {
            return false;
        }

        Timers.Cancel(SweepTimer);
        host.Tell(new HostShard(_state, Self));
        _state = null;
        _host = host;
        Context.Watch(host);
        Become(Lent);
        return true;
    }

    /// <summary>The host gave the shard back (it stops or restarts): run it here until a host asks again (<see cref="FindShardHost"/>).</summary>
    private void HandleReturned(ShardReturned message)
    {
        if (_host is not null)
        {
            Context.Unwatch(_host);
        }

        Timers.Cancel(ReturnTimer);
        _host = null;
        _state = message.Shard;
        _state.AttachTo(_region ?? ActorRefs.Nobody, null);
        Become(Running);
        Stash.UnstashAll();
        ScheduleSweep();
    }

    private void HandleSweep()
    {
        if (_state!.Sweep(_scheduler.Now))
        {
            // More may be due: the next slice goes behind the packets already queued.
            Self.Tell(SweepExpired.Instance);
        }
        else
        {
            ScheduleSweep();
        }

        _state.DeliverNotices(null, null);
    }

    private void ScheduleSweep() => Timers.StartSingleTimer(SweepTimer, SweepExpired.Instance, _settings.SweepInterval);

    /// <summary>The sweep tick; local to the actor, never serialized.</summary>
    private sealed class SweepExpired : INoSerializationVerificationNeeded
    {
        public static readonly SweepExpired Instance = new();
    }

    /// <summary>A stopped host did not give the shard back in time.</summary>
    private sealed class ReturnOverdue : INoSerializationVerificationNeeded
    {
        public static readonly ReturnOverdue Instance = new();
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
