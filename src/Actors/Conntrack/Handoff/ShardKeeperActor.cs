using Actors.Wire;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Datapath.Conntrack;

namespace Actors.Conntrack.Handoff;

/// <summary>
/// One per node (/user/conntrack-handoff): keeps the tables of conntrack shards whose entity stopped
/// on this node because sharding moved them, until the shard's new entity claims them, and streams a
/// claimed table to it in chunks (<see cref="HandoffLimits"/>), a window at a time. A parked table is
/// forgotten only when its claimant has it all (<see cref="ShardStateAccepted"/>) or gave up on it
/// (<see cref="ShardStateGivenUp"/>), so a node that leaves waits for its tables to be taken
/// (<see cref="AwaitNoneParked"/>, a CoordinatedShutdown task). Also counts this node's hand-offs, and
/// sends again the shard messages this node's region drops when a hand-off starts (<see cref="HandleDropped"/>).
/// </summary>
public sealed class ShardKeeperActor : ReceiveActor, IWithTimers
{
    private readonly Dictionary<int, Parked> _parked = [];
    private readonly List<IActorRef> _awaitingNoneParked = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long _nextTransfer;
    private int _handoffsOut;
    private long _connectionsOut;
    private int _handoffsIn;
    private long _connectionsIn;
    private long _bytesIn;
    private int _chunksRejected;
    private long _connectionsLost;
    private long _resent;
    private long _transferMsIn;

    // Messages sent again once (weakly held): one that dies again is given up instead of going round.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, object> _resentOnce = [];
    private ConntrackShape _shape = new(0, Datapath.Conntrack.ConnectionTable.TransferFormat);

    public ShardKeeperActor()
    {
        Receive<ParkShard>(HandlePark);
        Receive<ClaimShardState>(HandleClaim);
        Receive<ShardStateChunkAck>(HandleAck);
        Receive<ShardStateAccepted>(message => Forget(message.Shard, message.TransferId, taken: true));
        Receive<ShardStateGivenUp>(message =>
        {
            _log.Error("conntrack shard {0}: its new owner {1} gave its table up ({2})", message.Shard, Sender.Path.Address, message.Reason);
            Forget(message.Shard, message.TransferId, taken: false);
        });
        Receive<ShardStateArrived>(message =>
        {
            _handoffsIn += message.Chunks > 0 && message.ConnectionsLost == 0 ? 1 : 0;
            _connectionsIn += message.Connections;
            _bytesIn += message.Bytes;
            _chunksRejected += message.ChunksRejected;
            _connectionsLost += message.ConnectionsLost;
            _transferMsIn += message.TransferMs;
        });
        Receive<WakeParked>(_ => WakeUnclaimed());
        Receive<ConntrackShape>(shape => _shape = shape);
        Receive<GetConntrackShape>(_ => Sender.Tell(_shape));
        Receive<GetHandoffStatistics>(_ => Sender.Tell(new HandoffStatistics(
            _handoffsOut, _connectionsOut, _handoffsIn, _connectionsIn, _bytesIn, _chunksRejected, _connectionsLost, _parked.Count, _resent, _transferMsIn)));
        Receive<Dropped>(HandleDropped);
        Receive<NodeLeaving>(message =>
        {
            if (Address.TryParse(message.Node, out var node))
            {
                ShardHandoff.Get(Context.System).NoteLeaving(node);
            }

            Sender.Tell(new NodeLeavingNoted(message.Node));
        });
        Receive<ClusterEvent.MemberRemoved>(removed => ShardHandoff.Get(Context.System).NoteRemoved(removed.Member.Address));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<DeadLetter>(HandleDeadLetter);
        Receive<AwaitNoneParked>(_ =>
        {
            if (_parked.Count == 0)
            {
                Sender.Tell(NoneParked.Instance);
            }
            else
            {
                _awaitingNoneParked.Add(Sender);
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props() => Akka.Actor.Props.Create(() => new ShardKeeperActor());

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(Dropped));
        Context.System.EventStream.Subscribe(Self, typeof(DeadLetter));
        if (Context.System is ExtendedActorSystem { Provider: Akka.Cluster.IClusterActorRefProvider })
        {
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));
        }
    }

    protected override void PostStop()
    {
        Context.System.EventStream.Unsubscribe(Self);
        if (Context.System is ExtendedActorSystem { Provider: Akka.Cluster.IClusterActorRefProvider })
        {
            Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        }
    }

    /// <summary>
    /// When the coordinator hands a shard off, the old owner's region drops the messages it buffered for
    /// it since the hand-off began (Akka.Cluster.Sharding's ShardRegion, HandOff: "Avoiding reordering of
    /// buffered messages at shard handoff") and publishes each as <see cref="Dropped"/>. A PMD's batch
    /// among them would wait for an answer that never comes and its packets would be dropped as lost
    /// answers. Sent again through the region with its sender, it waits for the shard's new home like any
    /// later message and is answered by the new owner. (The order against messages sent after the hand-off
    /// began is not kept: at most one batch per sender is affected, and its packets are tracked all the same.)
    /// </summary>
    private void HandleDropped(Dropped dropped)
    {
        if (dropped.Message is IConntrackShardMessage message && dropped.Reason.Contains("handoff", StringComparison.OrdinalIgnoreCase))
        {
            Resend(message, dropped.Sender);
        }
    }

    /// <summary>
    /// A shard message that reached an actor after it stopped, unread: an entity that parked its table,
    /// the region of a node that handed its shards off, a PMD that stopped while it hosted the shard, or
    /// their remote counterparts on a node that left. Sent again through a live region, it reaches the
    /// shard's owner now. A message that comes back dead a second time is given up (logged): the shard
    /// has no live region to go to.
    /// </summary>
    private void HandleDeadLetter(DeadLetter dead)
    {
        // Sharding hands what it drops to dead letters as Dropped, which publishes it wrapped in a DeadLetter.
        if (dead.Message is Dropped dropped)
        {
            HandleDropped(dropped);
            return;
        }

        var message = dead.Message switch
        {
            IConntrackShardMessage addressed => addressed,
            ForShard { Message: Wire.IWireMessage wire } forShard => ShardHandoff.Addressed(forShard.Shard, wire),
            _ => null,
        };
        if (message is not null && !dead.Recipient.Equals(Context.System.DeadLetters))
        {
            Resend(message, dead.Sender);
        }
    }

    private void Resend(IConntrackShardMessage message, IActorRef sender)
    {
        var region = ShardHandoff.LiveRegion(Context.System);
        if (region.Equals(Context.System.DeadLetters) || _resentOnce.TryGetValue(message, out _))
        {
            _log.Warning("conntrack shard {0}: a {1} from {2} found no live owner after a hand-off; its answer is lost", message.Shard, message.GetType().Name, sender);
            return;
        }

        _resentOnce.AddOrUpdate(message, message);
        _resent++;
        _log.Debug("conntrack shard {0}: a {1} dropped at a hand-off is sent again", message.Shard, message.GetType().Name);
        region.Tell(message, sender);
    }

    private void HandlePark(ParkShard message)
    {
        var shard = message.Shard;
        _parked[shard.Id] = new Parked(shard, new TableStream(shard.Id, shard.Table, shard.NowMs(Context.System.Scheduler.Now)));
        var region = ShardHandoff.LiveRegion(Context.System);
        foreach (var (waiting, sender) in message.Waiting)
        {
            if (ShardHandoff.Addressed(shard.Id, waiting) is { } addressed)
            {
                region.Tell(addressed, sender);
            }
            else
            {
                _log.Warning("conntrack shard {0}: a {1} that waited for the hand-off cannot be sent on", shard.Id, waiting.GetType().Name);
            }
        }

        // The coordinator places a shard again only when a message asks for it.
        region.Tell(new ConntrackEnvelope(shard.Id, FindShardHost.Instance), Self);
        Timers.StartPeriodicTimer(nameof(WakeParked), WakeParked.Instance, HandoffLimits.WakeInterval);
    }

    private void WakeUnclaimed()
    {
        var region = ShardHandoff.LiveRegion(Context.System);
        foreach (var parked in _parked.Values.Where(p => p.Stream.Claimant is null))
        {
            region.Tell(new ConntrackEnvelope(parked.Shard.Id, FindShardHost.Instance), Self);
        }

        if (_parked.Count == 0)
        {
            Timers.Cancel(nameof(WakeParked));
        }
    }

    private void HandleClaim(ClaimShardState message)
    {
        if (!_parked.TryGetValue(message.Shard, out var parked))
        {
            Sender.Tell(new ShardStateNotHere(message.Shard));
            return;
        }

        // A new claim (a first one, a retry, or a claimant that restarted) starts the table over.
        parked.Stream.Start(Sender, ++_nextTransfer);
    }

    private void HandleAck(ShardStateChunkAck message)
    {
        if (_parked.TryGetValue(message.Shard, out var parked))
        {
            parked.Stream.Acknowledged(message.TransferId, message.Sequence);
        }
    }

    private void Forget(int shard, long transferId, bool taken)
    {
        if (!_parked.TryGetValue(shard, out var parked) || parked.Stream.TransferId != transferId)
        {
            return;
        }

        _parked.Remove(shard);
        if (taken)
        {
            _handoffsOut++;
            _connectionsOut += parked.Shard.Table.Count;
        }

        if (_parked.Count == 0)
        {
            foreach (var waiter in _awaitingNoneParked)
            {
                waiter.Tell(NoneParked.Instance);
            }

            _awaitingNoneParked.Clear();
        }
    }

    private sealed record Parked(ConntrackShard Shard, TableStream Stream);

    private sealed class WakeParked : INoSerializationVerificationNeeded
    {
        public static readonly WakeParked Instance = new();
    }
}
