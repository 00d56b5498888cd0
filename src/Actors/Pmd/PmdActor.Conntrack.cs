using System.Diagnostics;
using Actors.Conntrack;
using Actors.Wire;
using Akka.Actor;

namespace Actors.Pmd;

/// <summary>
/// The conntrack shards this PMD hosts (docs/architecture.md, "Where a shard lives"): their entities lend them
/// (<see cref="HostShard"/>) and forward their messages here; the PMD answers those, sweeps the
/// shards' expired connections in bounded slices, and gives the shards back when it stops.
/// </summary>
public sealed partial class PmdActor
{
    private bool _sweeping;

    private void ReceiveConntrackHosting()
    {
        Receive<HostShard>(HandleHostShard);

        // The entity stops (hand-off, shutdown): nothing is left to give the shard back to.
        // An entity that is being moved takes its shard back (Sender: a live entity) to hand it over; one that stopped gets nothing.
        Receive<ReleaseShard>(message =>
        {
            if (_hosted.Release(message.Shard) is { } state && !Sender.IsNobody())
            {
                Sender.Tell(new ShardReturned(state));
            }
        });
        Receive<TrackConnections>(HandleShardBatch);
        Receive<ForShard>(HandleForShard);

        // Answers to this PMD's hosted shards' claims (translated connections across shards).
        Receive<ReplyTupleReserved>(HandleShardMessage);
        Receive<ReplyOwnerChecked>(HandleShardMessage);
        Receive<ReserveReplyTuple>(HandleShardMessage);
        Receive<CheckReplyOwner>(HandleShardMessage);
        Receive<ReplyTupleReleased>(HandleShardMessage);
        Receive<SweepHostedShards>(_ => SweepHosted());
    }

    private void HandleHostShard(HostShard message)
    {
        if (!_hosted.Host(message.Shard, message.Entity))
        {
            // A shard this PMD cannot index (another shard count): the entity keeps it.
            message.Entity.Tell(new ShardReturned(message.Shard));
            return;
        }

        var hosted = _hosted;
        message.Shard.AttachTo(_routes.Region, hosted.Get);

        if (!_sweeping)
        {
            _sweeping = true;
            Timers.StartSingleTimer(nameof(SweepHostedShards), SweepHostedShards.Instance, message.Shard.Settings.SweepInterval);
        }

        AfterWork();
    }

    /// <summary>A batch for a shard: tracked here when hosted here, else sent on to its owner through the region.</summary>
    private void HandleShardBatch(TrackConnections message)
    {
        if (_hosted.Get(message.Shard) is not { } shard)
        {
            _routes.SendThroughRegion(message, Sender);
            return;
        }

        long start = Stopwatch.GetTimestamp();
        shard.Handle(message, Sender, Context.System.Scheduler.Now);
        _conntrack.DeliverNotices(shard);
        _core.AddProcessingTime((long)Stopwatch.GetElapsedTime(start).TotalNanoseconds);
        AfterWork();
    }

    /// <summary>A message for one of this PMD's hosted shards sent to the PMD itself (an answer to its claims); one it no longer hosts goes through the region.</summary>
    private void HandleShardMessage(IConntrackShardMessage message)
    {
        if (_hosted.Get(message.Shard) is not { } shard)
        {
            _routes.Region.Tell(message, Sender);
            return;
        }

        shard.Handle(message, Sender, Context.System.Scheduler.Now);
        _conntrack.DeliverNotices(shard);
        AfterWork();
    }

    /// <summary>A hosted shard's other messages (dump, flush, statistics, bypass watch, operator reset).</summary>
    private void HandleForShard(ForShard message)
    {
        if (_hosted.Get(message.Shard) is not { } shard)
        {
            if (message.Message is IWireMessage wire)
            {
                _routes.SendThroughRegion(message.Shard, wire, Sender);
            }

            return;
        }

        if (message.Message is RestartShard)
        {
            shard.Reset();
        }
        else
        {
            shard.Handle(message.Message, Sender, Context.System.Scheduler.Now);
        }

        _conntrack.DeliverNotices(shard);
        AfterWork();
    }

    /// <summary>One expiry slice of every hosted shard; the next comes at once while some shard has more due.</summary>
    private void SweepHosted()
    {
        var now = Context.System.Scheduler.Now;
        bool more = false;
        TimeSpan interval = TimeSpan.FromSeconds(1);
        foreach (var (shard, _) in _hosted.All())
        {
            more |= shard.Sweep(now);
            interval = shard.Settings.SweepInterval;
            _conntrack.DeliverNotices(shard);
        }

        if (more)
        {
            Self.Tell(SweepHostedShards.Instance);
        }
        else if (_hosted.Count > 0)
        {
            Timers.StartSingleTimer(nameof(SweepHostedShards), SweepHostedShards.Instance, interval);
        }
        else
        {
            _sweeping = false;
        }
    }

    /// <summary>Stopping or restarting: every hosted shard goes back to its entity.</summary>
    private void ReturnHostedShards()
    {
        foreach (var (shard, entity) in _hosted.All().ToList())
        {
            _hosted.Release(shard.Id);

            // This PMD's own packets die with it; batches of other senders stay with the shard.
            shard.DropLocalBatches();
            entity.Tell(new ShardReturned(shard));
        }
    }

    /// <summary>A restarted PMD asks again for the shards this node's registry gives it.</summary>
    private void AskForHostedShards()
    {
        var hosts = ConntrackHosts.Get(Context.System);
        for (int shard = 0; shard < _routes.ShardCount; shard++)
        {
            if (Self.Equals(hosts.HostOf(shard)))
            {
                _routes.SendThroughRegion(shard, FindShardHost.Instance, Self);
            }
        }
    }

    /// <summary>The hosted shards' sweep tick; local to the actor.</summary>
    private sealed class SweepHostedShards : INoSerializationVerificationNeeded
    {
        public static readonly SweepHostedShards Instance = new();
    }
}
