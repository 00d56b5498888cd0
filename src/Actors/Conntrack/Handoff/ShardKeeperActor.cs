using Actors.Wire;
using Akka.Actor;
using Akka.Event;
using Datapath.Conntrack;

namespace Actors.Conntrack.Handoff;

/// <summary>
/// One per node (/user/conntrack-handoff): keeps the tables of conntrack shards whose entity stopped
/// on this node because sharding moved them, until the shard's new entity claims them, and streams a
/// claimed table to it in chunks (<see cref="HandoffLimits"/>), a window at a time. A parked table is
/// forgotten only when its claimant has it all (<see cref="ShardStateAccepted"/>) or gave up on it
/// (<see cref="ShardStateGivenUp"/>), so a node that leaves waits for its tables to be taken
/// (<see cref="AwaitNoneParked"/>, a CoordinatedShutdown task). Also counts this node's hand-offs.
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
        });
        Receive<WakeParked>(_ => WakeUnclaimed());
        Receive<ConntrackShape>(shape => _shape = shape);
        Receive<GetConntrackShape>(_ => Sender.Tell(_shape));
        Receive<GetHandoffStatistics>(_ => Sender.Tell(new HandoffStatistics(
            _handoffsOut, _connectionsOut, _handoffsIn, _connectionsIn, _bytesIn, _chunksRejected, _connectionsLost, _parked.Count)));
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
            parked.Stream.Acknowledged(message.TransferId);
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
